// A price-time priority limit order book for one stock. Pure: no I/O, no clocks, no locks —
// one owner thread drives it. Money is not its concern: the caller escrows cash and shares and
// settles from the fills, which always carry the maker's price.
//
// Rules (spec/platform.md decisions):
// - limit orders match while the opposite side crosses, at the maker's price; the rest rests;
// - market orders are fill-or-kill on volume, and for buys optionally on funds (`maxCost`);
//   a rejected order leaves the book untouched and produces no fills;
// - self-trade prevention: a taker skips its owner's resting orders, which keep their place
//   (so a book may be locked/crossed between one owner's own bids and asks);
// - every resting order's remaining × price fits in Int64, which keeps all fill arithmetic
//   in range.

public struct OrderBook: Sendable {
    var bids = BookSide(sign: 1)
    var asks = BookSide(sign: -1)
    var store: OrderStore
    /// Price of the most recent fill, if any.
    public private(set) var lastTradePrice: Int64?
    /// Sequence the next accepted order gets unless the caller supplies one.
    public private(set) var nextSequence: UInt64 = 1

    /// `expectedOrders` pre-sizes the pool and the id index so steady-state trading never rehashes
    /// (small by default: an engine may hold thousands of mostly idle books; both grow as needed).
    public init(expectedOrders: Int = 64) {
        store = OrderStore(expectedOrders: expectedOrders)
    }

    // MARK: - Submit

    /// Submits an order and returns its outcome with the fills in execution order.
    /// `sequence`, when given, must not be lower than `nextSequence` (the engine may use its own
    /// global sequence); otherwise the book numbers orders itself.
    public mutating func submit(_ order: Order, sequence: UInt64? = nil) -> SubmitResult {
        var fills: [Fill] = []
        let report = submit(order, sequence: sequence, fills: &fills)
        return SubmitResult(report: report, fills: fills)
    }

    /// Allocation-free variant: appends the fills to `fills` (which the caller reuses).
    public mutating func submit(_ order: Order, sequence: UInt64? = nil, fills: inout [Fill]) -> SubmitReport {
        guard order.quantity > 0 else { return Self.rejected(.invalidQuantity) }
        if let s = sequence, s < nextSequence { return Self.rejected(.sequenceOutOfOrder) }
        if store.index.find(order.id) != nil { return Self.rejected(.duplicateOrderId) }
        switch order.kind {
        case .limit: return submitLimit(order, sequence: sequence, fills: &fills)
        case .market: return submitMarket(order, sequence: sequence, fills: &fills)
        }
    }

    private static func rejected(_ error: OrderBookError) -> SubmitReport {
        SubmitReport(outcome: .rejected(error), filledQuantity: 0, cost: 0, sequence: 0)
    }

    private mutating func takeSequence(_ explicit: UInt64?) -> UInt64 {
        let s = explicit ?? nextSequence
        nextSequence = s &+ 1
        return s
    }

    private mutating func submitLimit(_ order: Order, sequence: UInt64?, fills: inout [Fill]) -> SubmitReport {
        let price = order.price
        let quantity = order.quantity
        guard price > 0 else { return Self.rejected(.invalidPrice) }
        // Whatever rests must have a representable notional, and the side's total must fit.
        guard !quantity.multipliedReportingOverflow(by: price).overflow,
              !(order.side == .buy ? bids.volume : asks.volume).addingReportingOverflow(quantity).overflow
        else { return Self.rejected(.overflow) }
        // A sell's proceeds are bounded by quantity × best bid (every fill is at a bid ≤ it).
        if order.side == .sell, let best = bids.levels.last, best.price >= price,
           quantity.multipliedReportingOverflow(by: best.price).overflow {
            return Self.rejected(.overflow)
        }

        let seq = takeSequence(sequence)
        let taken: MatchTotals
        if order.side == .buy {
            taken = Self.match(taker: order, limitKey: -price, against: &asks, store: &store, fills: &fills)
        } else {
            taken = Self.match(taker: order, limitKey: price, against: &bids, store: &store, fills: &fills)
        }
        if taken.quantity > 0 { lastTradePrice = taken.lastPrice }

        let remaining = quantity &- taken.quantity
        if remaining == 0 {
            return SubmitReport(outcome: .filled, filledQuantity: taken.quantity, cost: taken.cost, sequence: seq)
        }
        let node = Node(id: order.id, owner: order.owner, remaining: remaining, price: price, sequence: seq,
                        prev: nilSlot, next: nilSlot, side: order.side)
        if order.side == .buy {
            Self.rest(node, on: &bids, store: &store, bySequence: false)
        } else {
            Self.rest(node, on: &asks, store: &store, bySequence: false)
        }
        return SubmitReport(outcome: .rested(remaining: remaining), filledQuantity: taken.quantity,
                            cost: taken.cost, sequence: seq)
    }

    private mutating func submitMarket(_ order: Order, sequence: UInt64?, fills: inout [Fill]) -> SubmitReport {
        let quantity = order.quantity
        if let cap = order.maxCost, cap < 0 { return Self.rejected(.invalidPrice) }
        // Cheap reject before walking: not even the whole side (own orders included) suffices.
        guard (order.side == .buy ? asks.volume : bids.volume) >= quantity
        else { return Self.rejected(.insufficientLiquidity) }
        // (No local copy of the side: holding one would force a copy-on-write in match.)
        let preview = order.side == .buy
            ? Self.walkCost(quantity: quantity, owner: order.owner, on: asks, nodes: store.nodes)
            : Self.walkCost(quantity: quantity, owner: order.owner, on: bids, nodes: store.nodes)
        guard let quote = preview else { return Self.rejected(.overflow) }
        guard quote.fillable == quantity else { return Self.rejected(.insufficientLiquidity) }
        if order.side == .buy, let cap = order.maxCost, quote.cost > cap { return Self.rejected(.exceedsMaxCost) }

        let seq = takeSequence(sequence)
        let taken: MatchTotals
        if order.side == .buy {
            taken = Self.match(taker: order, limitKey: .min, against: &asks, store: &store, fills: &fills)
        } else {
            taken = Self.match(taker: order, limitKey: .min, against: &bids, store: &store, fills: &fills)
        }
        lastTradePrice = taken.lastPrice
        return SubmitReport(outcome: .filled, filledQuantity: taken.quantity, cost: taken.cost, sequence: seq)
    }

    // MARK: - Cancel and restore

    /// Removes a resting order and returns it as it was (its `remaining` is the unfilled part,
    /// which is what the caller un-escrows).
    @discardableResult
    public mutating func cancel(orderId: Int64, owner: Int64) throws(OrderBookError) -> RestingOrder {
        guard let slot = store.index.find(orderId) else { throw .notFound }
        let node = store.nodes[Int(slot)]
        guard node.owner == owner else { throw .notOwner }
        if node.side == .buy {
            Self.remove(slot, node, from: &bids, store: &store)
        } else {
            Self.remove(slot, node, from: &asks, store: &store)
        }
        return RestingOrder(id: node.id, owner: node.owner, side: node.side, price: node.price,
                            remaining: node.remaining, sequence: node.sequence)
    }

    /// Puts a resting order back (start-up rebuild from the ledger) at its original time priority.
    /// No matching happens: the book mirrors what the ledger says was resting. Orders may come in
    /// any order, though sequence order makes each insert O(1).
    public mutating func restore(_ order: RestingOrder) throws(OrderBookError) {
        guard order.remaining > 0 else { throw .invalidQuantity }
        guard order.price > 0 else { throw .invalidPrice }
        guard store.index.find(order.id) == nil else { throw .duplicateOrderId }
        guard !order.remaining.multipliedReportingOverflow(by: order.price).overflow,
              !(order.side == .buy ? bids.volume : asks.volume).addingReportingOverflow(order.remaining).overflow
        else { throw .overflow }
        let node = Node(id: order.id, owner: order.owner, remaining: order.remaining, price: order.price,
                        sequence: order.sequence, prev: nilSlot, next: nilSlot, side: order.side)
        if order.side == .buy {
            Self.rest(node, on: &bids, store: &store, bySequence: true)
        } else {
            Self.rest(node, on: &asks, store: &store, bySequence: true)
        }
        if order.sequence >= nextSequence { nextSequence = order.sequence &+ 1 }
    }

    // MARK: - Internals

    private static func rest(_ node: Node, on side: inout BookSide, store: inout OrderStore, bySequence: Bool) {
        let key = node.price &* side.sign
        let li = side.lowerBound(key)
        if li == side.levels.count || side.levels[li].key != key {
            side.levels.insert(Level(key: key, price: node.price), at: li)
        }
        let slot = store.allocate(node)
        if bySequence {
            store.insertBySequence(slot, into: &side.levels[li])
        } else {
            store.append(slot, to: &side.levels[li])
        }
        side.levels[li].count &+= 1
        side.levels[li].volume &+= node.remaining
        side.levels[li].owners |= ownerBit(node.owner)
        side.volume &+= node.remaining
        side.orderCount &+= 1
        store.index.insert(node.id, slot: slot)
    }

    private static func remove(_ slot: Int32, _ node: Node, from side: inout BookSide, store: inout OrderStore) {
        // The level exists while the order rests on it.
        guard let li = side.levelIndex(price: node.price) else { return }
        store.unlink(slot, from: &side.levels[li])
        side.levels[li].count &-= 1
        side.levels[li].volume &-= node.remaining
        if side.levels[li].count == 0 { side.levels.remove(at: li) }
        side.volume &-= node.remaining
        side.orderCount &-= 1
        store.index.remove(node.id)
        store.release(slot)
    }

    struct MatchTotals {
        var quantity: Int64
        var cost: Int64
        var lastPrice: Int64
    }

    /// Fills `taker` against `book` from the best level down while a level's key is ≥ `limitKey`
    /// (`.min` for market orders), skipping the taker's owner's orders. The caller has checked
    /// that the totals cannot overflow.
    static func match(taker: Order, limitKey: Int64, against book: inout BookSide,
                      store: inout OrderStore, fills: inout [Fill]) -> MatchTotals {
        var need = taker.quantity
        var cost: Int64 = 0
        var lastPrice: Int64 = 0
        var li = book.levels.count &- 1
        while need > 0 && li >= 0 && book.levels[li].key >= limitKey {
            let price = book.levels[li].price
            var slot = book.levels[li].head
            var levelTaken: Int64 = 0
            var levelRemoved: Int32 = 0
            while slot != nilSlot && need > 0 {
                let node = store.nodes[Int(slot)]
                let next = node.next
                if node.owner != taker.owner {
                    let q = min(need, node.remaining)
                    let left = node.remaining &- q
                    need &-= q
                    levelTaken &+= q
                    cost &+= q &* price
                    lastPrice = price
                    fills.append(Fill(makerOrderId: node.id, makerOwner: node.owner, takerOrderId: taker.id,
                                      price: price, quantity: q, makerRemaining: left))
                    if left == 0 {
                        store.unlink(slot, from: &book.levels[li])
                        store.index.remove(node.id)
                        store.release(slot)
                        levelRemoved &+= 1
                    } else {
                        store.nodes[Int(slot)].remaining = left
                    }
                }
                slot = next
            }
            book.volume &-= levelTaken
            book.orderCount &-= Int(levelRemoved)
            book.levels[li].volume &-= levelTaken
            book.levels[li].count &-= levelRemoved
            // Levels below li do not move when li is removed, so the walk continues at li − 1.
            if book.levels[li].count == 0 { book.levels.remove(at: li) }
            li &-= 1
        }
        return MatchTotals(quantity: taker.quantity &- need, cost: cost, lastPrice: lastPrice)
    }

    /// What filling up to `quantity` from the best level down would yield, skipping `owner`'s
    /// orders; nil if the cost overflows Int64.
    static func walkCost(quantity: Int64, owner: Int64, on book: BookSide, nodes: [Node]) -> CostQuote? {
        var need = quantity
        var cost: Int64 = 0
        let bit = ownerBit(owner)
        var li = book.levels.count &- 1
        while need > 0 && li >= 0 {
            let level = book.levels[li]
            if level.owners & bit == 0 {
                let q = min(need, level.volume)
                let (notional, o1) = q.multipliedReportingOverflow(by: level.price)
                let (sum, o2) = cost.addingReportingOverflow(notional)
                if o1 || o2 { return nil }
                cost = sum
                need &-= q
            } else {
                var slot = level.head
                while slot != nilSlot && need > 0 {
                    let node = nodes[Int(slot)]
                    if node.owner != owner {
                        let q = min(need, node.remaining)
                        let (notional, o1) = q.multipliedReportingOverflow(by: level.price)
                        let (sum, o2) = cost.addingReportingOverflow(notional)
                        if o1 || o2 { return nil }
                        cost = sum
                        need &-= q
                    }
                    slot = node.next
                }
            }
            li &-= 1
        }
        return CostQuote(fillable: quantity &- need, cost: cost)
    }
}
