import OrderBook

/// The rules of spec/platform.md written as plainly as possible: a flat array of resting orders,
/// every decision made by a linear scan. Slow, obviously right, and independent of the real
/// book's data structures — the property test holds the two against each other.
struct ReferenceBook {
    /// Resting orders in arrival order (ties in sequence break by position here).
    var resting: [RestingOrder] = []
    var lastTradePrice: Int64?
    var nextSequence: UInt64 = 1

    func volume(_ side: Side) -> Int64 { resting.filter { $0.side == side }.reduce(0) { $0 + $1.remaining } }

    /// Does `a` have priority over `b` (same side)?
    static func before(_ a: (Int, RestingOrder), _ b: (Int, RestingOrder)) -> Bool {
        if a.1.price != b.1.price { return a.1.side == .buy ? a.1.price > b.1.price : a.1.price < b.1.price }
        if a.1.sequence != b.1.sequence { return a.1.sequence < b.1.sequence }
        return a.0 < b.0
    }

    func orders(_ side: Side) -> [RestingOrder] {
        resting.enumerated().filter { $0.element.side == side }.sorted { Self.before($0, $1) }.map(\.element)
    }

    /// Orders a taker of `side` by `owner` could trade with (ignoring price), in priority order.
    func candidates(for side: Side, owner: Int64) -> [RestingOrder] {
        orders(side.opposite).filter { $0.owner != owner }
    }

    func quote(side: Side, quantity: Int64, owner: Int64) -> CostQuote? {
        var need = quantity
        var cost: Int64 = 0
        for o in candidates(for: side, owner: owner) where need > 0 {
            let q = min(need, o.remaining)
            let (n, o1) = q.multipliedReportingOverflow(by: o.price)
            let (s, o2) = cost.addingReportingOverflow(n)
            if o1 || o2 { return nil }
            cost = s
            need -= q
        }
        return CostQuote(fillable: quantity - need, cost: cost)
    }

    mutating func submit(_ order: Order, sequence: UInt64? = nil) -> SubmitResult {
        func reject(_ e: OrderBookError) -> SubmitResult {
            SubmitResult(
                report: SubmitReport(outcome: .rejected(e), filledQuantity: 0, cost: 0, sequence: 0), fills: [])
        }
        guard order.quantity > 0 else { return reject(.invalidQuantity) }
        if let s = sequence, s < nextSequence { return reject(.sequenceOutOfOrder) }
        if resting.contains(where: { $0.id == order.id }) { return reject(.duplicateOrderId) }
        if order.kind == .limit {
            guard order.price > 0 else { return reject(.invalidPrice) }
            if order.quantity.multipliedReportingOverflow(by: order.price).overflow
                || volume(order.side).addingReportingOverflow(order.quantity).overflow
            {
                return reject(.overflow)
            }
            if order.side == .sell, let best = orders(.buy).first?.price, best >= order.price,
                order.quantity.multipliedReportingOverflow(by: best).overflow
            {
                return reject(.overflow)
            }
            if order.timeInForce == .fok && crossable(order) < order.quantity { return reject(.insufficientLiquidity) }
        } else {
            if let cap = order.maxCost, cap < 0 { return reject(.invalidPrice) }
            if volume(order.side.opposite) < order.quantity { return reject(.insufficientLiquidity) }
            guard let q = quote(side: order.side, quantity: order.quantity, owner: order.owner) else {
                return reject(.overflow)
            }
            if q.fillable < order.quantity { return reject(.insufficientLiquidity) }
            if order.side == .buy, let cap = order.maxCost, q.cost > cap { return reject(.exceedsMaxCost) }
        }
        let seq = sequence ?? nextSequence
        nextSequence = seq + 1

        var fills: [Fill] = []
        var need = order.quantity
        var cost: Int64 = 0
        while need > 0 {
            // Best crossing order of someone else, found by scanning everything.
            var best: (Int, RestingOrder)?
            for (i, o) in resting.enumerated() where o.side == order.side.opposite && o.owner != order.owner {
                let crosses =
                    order.kind == .market || (order.side == .buy ? o.price <= order.price : o.price >= order.price)
                if crosses, best == nil || Self.before((i, o), best!) { best = (i, o) }
            }
            guard let (i, maker) = best else { break }
            let q = min(need, maker.remaining)
            need -= q
            cost += q * maker.price
            resting[i].remaining -= q
            fills.append(
                Fill(
                    makerOrderId: maker.id, makerOwner: maker.owner, takerOrderId: order.id,
                    price: maker.price, quantity: q, makerRemaining: resting[i].remaining))
            lastTradePrice = maker.price
            if resting[i].remaining == 0 { resting.remove(at: i) }
        }
        let filled = order.quantity - need
        if need == 0 {
            return SubmitResult(
                report: SubmitReport(outcome: .filled, filledQuantity: filled, cost: cost, sequence: seq), fills: fills)
        }
        precondition(
            order.kind == .limit && order.timeInForce != .fok,
            "reference: a fill-or-kill order passed its checks but did not fill")
        if order.timeInForce == .ioc {
            return SubmitResult(
                report: SubmitReport(
                    outcome: .cancelled(remaining: need), filledQuantity: filled, cost: cost, sequence: seq),
                fills: fills)
        }
        resting.append(
            RestingOrder(
                id: order.id, owner: order.owner, side: order.side, price: order.price,
                remaining: need, sequence: seq))
        return SubmitResult(
            report: SubmitReport(outcome: .rested(remaining: need), filledQuantity: filled, cost: cost, sequence: seq),
            fills: fills)
    }

    /// Quantity of other owners' orders a limit order's price crosses.
    func crossable(_ order: Order) -> Int64 {
        candidates(for: order.side, owner: order.owner)
            .filter { order.side == .buy ? $0.price <= order.price : $0.price >= order.price }
            .reduce(0) { $0 + $1.remaining }
    }

    /// Amend as the rule says it: a smaller quantity at the same price changes nothing else;
    /// anything else is a cancel followed by a new GTC limit order with the same id (undone if
    /// that order is rejected).
    mutating func amend(
        orderId: Int64, owner: Int64, quantity: Int64?, price: Int64?,
        sequence: UInt64?
    ) -> Result<AmendResult, OrderBookError> {
        guard let i = resting.firstIndex(where: { $0.id == orderId }) else { return .failure(.notFound) }
        let old = resting[i]
        guard old.owner == owner else { return .failure(.notOwner) }
        let q = quantity ?? old.remaining
        let p = price ?? old.price
        guard q > 0 else { return .failure(.invalidQuantity) }
        guard p > 0 else { return .failure(.invalidPrice) }
        if p == old.price && q <= old.remaining {
            resting[i].remaining = q
            let report = SubmitReport(
                outcome: .rested(remaining: q), filledQuantity: 0, cost: 0, sequence: old.sequence)
            return .success(
                AmendResult(report: AmendReport(previous: old, report: report, keptPriority: true), fills: []))
        }
        if let s = sequence, s < nextSequence { return .failure(.sequenceOutOfOrder) }
        resting.remove(at: i)
        let r = submit(.limit(id: old.id, owner: old.owner, side: old.side, quantity: q, price: p), sequence: sequence)
        let report = SubmitReport(
            outcome: r.outcome, filledQuantity: r.filledQuantity, cost: r.cost, sequence: r.sequence)
        if case .rejected(let e) = r.outcome {
            resting.insert(old, at: i)
            return .failure(e)
        }
        return .success(
            AmendResult(report: AmendReport(previous: old, report: report, keptPriority: false), fills: r.fills))
    }

    mutating func cancel(orderId: Int64, owner: Int64) -> Result<RestingOrder, OrderBookError> {
        guard let i = resting.firstIndex(where: { $0.id == orderId }) else { return .failure(.notFound) }
        guard resting[i].owner == owner else { return .failure(.notOwner) }
        return .success(resting.remove(at: i))
    }

    mutating func restore(_ o: RestingOrder) -> Result<Void, OrderBookError> {
        guard o.remaining > 0 else { return .failure(.invalidQuantity) }
        guard o.price > 0 else { return .failure(.invalidPrice) }
        if resting.contains(where: { $0.id == o.id }) { return .failure(.duplicateOrderId) }
        if o.remaining.multipliedReportingOverflow(by: o.price).overflow
            || volume(o.side).addingReportingOverflow(o.remaining).overflow
        {
            return .failure(.overflow)
        }
        resting.append(o)
        nextSequence = max(nextSequence, o.sequence + 1)
        return .success(())
    }
}
