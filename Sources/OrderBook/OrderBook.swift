// A price-time priority limit order book for one stock. Pure: no I/O, no clocks, no locks —
// one owner thread drives it. Money is not its concern: the caller escrows cash and shares and
// settles from the fills, which always carry the maker's price.
//
// Rules (spec/platform.md decisions):
// - limit orders match while the opposite side crosses, at the maker's price; then by time in
//   force the rest rests (GTC), is cancelled (IOC), or — if anything is left — the whole order
//   is rejected with the book untouched (FOK);
// - market orders are fill-or-kill on volume, and for buys optionally on funds (`maxCost`);
//   a rejected order leaves the book untouched and produces no fills;
// - amend keeps time priority only when the price stays and the quantity does not grow;
//   otherwise the order goes to the back at its (new) price and may trade like a new order;
// - self-trade prevention: a taker skips its owner's resting orders, which keep their place
//   (so a book may be locked/crossed between one owner's own bids and asks);
// - every resting order's remaining × price fits in Int64, which keeps all fill arithmetic
//   in range.

public struct OrderBook: Sendable {
    var bids = BookSide(sign: 1)
    var asks = BookSide(sign: -1)
    var store: OrderStore
    /// Pool slots of the makers filled by the match in progress, parallel to its fills
    /// (kept between calls so matching never allocates).
    var touched: [Int32] = []
    /// Price of the most recent fill, if any.
    public internal(set) var lastTradePrice: Int64?
    /// Sequence the next accepted order gets unless the caller supplies one.
    public internal(set) var nextSequence: UInt64 = 1

    /// `expectedOrders` pre-sizes the pool and the id index so steady-state trading never rehashes
    /// (small by default: an engine may hold thousands of mostly idle books; both grow as needed).
    public init(expectedOrders: Int = 64) {
        store = OrderStore(expectedOrders: expectedOrders)
        touched.reserveCapacity(16)
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
        case .limit:
            if let e = limitViolation(
                order.side, quantity: order.quantity, price: order.price,
                resting: order.side == .buy ? bids.volume : asks.volume)
            {
                return Self.rejected(e)
            }
            return submitLimit(order, sequence: sequence, fills: &fills)
        case .market:
            return submitMarket(order, sequence: sequence, fills: &fills)
        }
    }

    static func rejected(_ error: OrderBookError) -> SubmitReport {
        SubmitReport(outcome: .rejected(error), filledQuantity: 0, cost: 0, sequence: 0)
    }

    mutating func takeSequence(_ explicit: UInt64?) -> UInt64 {
        let s = explicit ?? nextSequence
        nextSequence = s &+ 1
        return s
    }

    /// Why a limit order could not be accepted, if it cannot: whatever may rest must have a
    /// representable notional and keep the side's total (`resting` before it) in Int64, and a
    /// sell's proceeds are bounded by quantity × best bid (every fill is at a bid ≤ it).
    func limitViolation(_ side: Side, quantity: Int64, price: Int64, resting: Int64) -> OrderBookError? {
        guard price > 0 else { return .invalidPrice }
        guard !quantity.multipliedReportingOverflow(by: price).overflow,
            !resting.addingReportingOverflow(quantity).overflow
        else { return .overflow }
        if side == .sell, let best = bids.bestPrice, best >= price,
            quantity.multipliedReportingOverflow(by: best).overflow
        {
            return .overflow
        }
        return nil
    }

    /// A validated limit order: match, then rest / cancel / reject the remainder by time in force.
    /// `existing` is the pool slot of an amended order already taken off its level: it is reused
    /// (no index or pool churn) if the order rests again, and freed if it fills.
    mutating func submitLimit(_ order: Order, sequence: UInt64?, fills: inout [Fill], existing: Int32 = nilSlot)
        -> SubmitReport
    {
        let start = fills.count
        let taken =
            order.side == .buy
            ? Self.walk(
                taker: order, limitKey: -order.price, on: asks, nodes: &store.nodes, touched: &touched, fills: &fills)
            : Self.walk(
                taker: order, limitKey: order.price, on: bids, nodes: &store.nodes, touched: &touched, fills: &fills)
        // Limit totals cannot overflow (see limitViolation); FOK needs everything or nothing.
        if taken.overflow || (order.timeInForce == .fok && taken.quantity < order.quantity) {
            Self.rollback(from: start, fills: &fills, touched: &touched, nodes: &store.nodes)
            return Self.rejected(taken.overflow ? .overflow : .insufficientLiquidity)
        }
        settle(order.side, taken, from: start, fills: fills)
        let seq = takeSequence(sequence)
        let remaining = order.quantity &- taken.quantity
        let outcome: TakerOutcome
        if remaining == 0 {
            outcome = .filled
            if existing != nilSlot {
                store.index.remove(order.id)
                store.release(existing)
            }
        } else if order.timeInForce == .ioc {
            outcome = .cancelled(remaining: remaining)
        } else {
            let node = Node(
                id: order.id, owner: order.owner, remaining: remaining, price: order.price, sequence: seq,
                prev: nilSlot, next: nilSlot, side: order.side)
            let slot: Int32
            if existing == nilSlot {
                slot = store.allocate(node)
                store.index.insert(order.id, slot: slot)
            } else {
                slot = existing
                store.nodes[Int(slot)] = node
            }
            if order.side == .buy {
                Self.attach(slot, on: &bids, store: &store, bySequence: false)
            } else {
                Self.attach(slot, on: &asks, store: &store, bySequence: false)
            }
            outcome = .rested(remaining: remaining)
        }
        return SubmitReport(outcome: outcome, filledQuantity: taken.quantity, cost: taken.cost, sequence: seq)
    }

    /// Fill-or-kill in one walk: the fills are made tentatively and undone if the order fails.
    private mutating func submitMarket(_ order: Order, sequence: UInt64?, fills: inout [Fill]) -> SubmitReport {
        if let cap = order.maxCost, cap < 0 { return Self.rejected(.invalidPrice) }
        // Cheap reject before walking: not even the whole side (own orders included) suffices.
        guard (order.side == .buy ? asks.volume : bids.volume) >= order.quantity
        else { return Self.rejected(.insufficientLiquidity) }
        let start = fills.count
        let taken =
            order.side == .buy
            ? Self.walk(taker: order, limitKey: .min, on: asks, nodes: &store.nodes, touched: &touched, fills: &fills)
            : Self.walk(taker: order, limitKey: .min, on: bids, nodes: &store.nodes, touched: &touched, fills: &fills)
        var failure: OrderBookError?
        if taken.overflow {
            failure = .overflow
        } else if taken.quantity < order.quantity {
            failure = .insufficientLiquidity
        } else if order.side == .buy, let cap = order.maxCost, taken.cost > cap {
            failure = .exceedsMaxCost
        }
        if let failure {
            Self.rollback(from: start, fills: &fills, touched: &touched, nodes: &store.nodes)
            return Self.rejected(failure)
        }
        settle(order.side, taken, from: start, fills: fills)
        let seq = takeSequence(sequence)
        return SubmitReport(outcome: .filled, filledQuantity: taken.quantity, cost: taken.cost, sequence: seq)
    }

    /// Makes a walk's tentative fills final on the side opposite `takerSide`.
    private mutating func settle(_ takerSide: Side, _ taken: MatchTotals, from start: Int, fills: [Fill]) {
        guard taken.quantity > 0 else { return }
        if takerSide == .buy {
            Self.commit(from: start, fills: fills, touched: &touched, book: &asks, store: &store)
        } else {
            Self.commit(from: start, fills: fills, touched: &touched, book: &bids, store: &store)
        }
        lastTradePrice = taken.lastPrice
    }
}
