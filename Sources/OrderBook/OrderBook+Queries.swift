// Read-only views of the book. None of them changes state.

extension OrderBook {
    /// Highest bid level (price, total quantity, order count).
    public var bestBid: PriceLevel? { bids.best == nilSlot ? nil : Self.summary(bids.levels[Int(bids.best)]) }

    /// Lowest ask level.
    public var bestAsk: PriceLevel? { asks.best == nilSlot ? nil : Self.summary(asks.levels[Int(asks.best)]) }

    /// The platform's `current_price`: best ask, else the last trade price, else nil.
    public var currentPrice: Int64? { asks.bestPrice ?? lastTradePrice }

    /// Number of resting orders on both sides.
    public var restingOrderCount: Int { bids.orderCount + asks.orderCount }

    public var isEmpty: Bool { restingOrderCount == 0 }

    /// Total resting quantity on one side.
    public func volume(_ side: Side) -> Int64 { side == .buy ? bids.volume : asks.volume }

    /// Number of resting orders on one side.
    public func orderCount(_ side: Side) -> Int { side == .buy ? bids.orderCount : asks.orderCount }

    /// Number of price levels on one side.
    public func levelCount(_ side: Side) -> Int { side == .buy ? bids.levelCount : asks.levelCount }

    /// Up to `maxLevels` price levels of one side, best first.
    public func depth(_ side: Side, maxLevels: Int = .max) -> [PriceLevel] {
        let book = side == .buy ? bids : asks
        var out: [PriceLevel] = []
        var slot = book.best
        while slot != nilSlot && out.count < maxLevels {
            out.append(Self.summary(book.levels[Int(slot)]))
            slot = book.levels[Int(slot)].worse
        }
        return out
    }

    /// A resting order by id (its `remaining` is the unfilled quantity).
    public func order(id: Int64) -> RestingOrder? {
        guard let slot = store.index.find(id) else { return nil }
        return Self.resting(store.nodes[Int(slot)])
    }

    /// All resting orders of one side in priority order (best price first, then earliest).
    public func orders(_ side: Side) -> [RestingOrder] {
        let book = side == .buy ? bids : asks
        var out: [RestingOrder] = []
        out.reserveCapacity(book.orderCount)
        var level = book.best
        while level != nilSlot {
            var slot = book.levels[Int(level)].head
            while slot != nilSlot {
                let node = store.nodes[Int(slot)]
                out.append(Self.resting(node))
                slot = node.next
            }
            level = book.levels[Int(level)].worse
        }
        return out
    }

    /// Adds to `owners` the owners of the resting orders that takers of `taker` side, `quantity`
    /// units in all, could meet: the opposite side in priority order until `quantity` units of
    /// orders not owned by `uncounted` have been passed (takers skip their own orders, so orders
    /// of possible takers are listed but do not count), at most `maxOrders` orders. A superset of
    /// the makers of those takers whatever their limit prices; false if `maxOrders` cut it short.
    public func reachableOwners(
        taker: Side, quantity: Int64, uncounted: Set<Int64>, maxOrders: Int, into owners: inout Set<Int64>
    ) -> Bool {
        let book = taker == .buy ? asks : bids
        var need = quantity
        var seen = 0
        var level = book.best
        while need > 0 && level != nilSlot {
            var slot = book.levels[Int(level)].head
            while need > 0 && slot != nilSlot {
                guard seen < maxOrders else { return false }
                seen += 1
                let node = store.nodes[Int(slot)]
                owners.insert(node.owner)
                if !uncounted.contains(node.owner) { need -= min(need, node.remaining) }
                slot = node.next
            }
            level = book.levels[Int(level)].worse
        }
        return true
    }

    /// What a market order of `side` for `quantity` by `owner` would fill and cost (proceeds for
    /// a sell) right now, skipping the owner's own orders; the book is not changed.
    /// Throws `.invalidQuantity` for quantity ≤ 0 and `.overflow` if the cost does not fit Int64.
    public func quoteCost(side: Side, quantity: Int64, owner: Int64) throws(OrderBookError) -> CostQuote {
        guard quantity > 0 else { throw .invalidQuantity }
        let quote =
            side == .buy
            ? Self.walkCost(quantity: quantity, owner: owner, on: asks, nodes: store.nodes)
            : Self.walkCost(quantity: quantity, owner: owner, on: bids, nodes: store.nodes)
        guard let quote else { throw .overflow }
        return quote
    }

    private static func summary(_ level: Level) -> PriceLevel {
        PriceLevel(price: level.price, quantity: level.volume, orderCount: Int(level.count))
    }
}
