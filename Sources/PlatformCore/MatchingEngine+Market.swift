import OrderBook
import ServiceCore

// Market orders in one walk of the book. A buy locks its account row first and hands the book
// its free cash as the order's cost cap, so the book's own fill-or-kill check (liquidity, then
// funds) decides and the debit that follows cannot fail; a sell escrows its shares first and
// gets them back if the book refuses. No preview walk.
extension MatchingEngine {
    func placeMarket(userId: Int64, _ o: PlaceOrderRequest, _ st: StockState, _ j: BatchJournal) throws {
        let db = j.db
        let q = o.quantity
        var cash: Int64 = 0
        if o.isBuy {
            try j.flushAccount(userId)
            cash = try db.query("SELECT cash_cents FROM accounts WHERE user_id = $1 FOR UPDATE", [userId]).int64(0, 0) ?? 0
        } else {
            try checkProceedsBound(userId: userId, quantity: q, st)
            try j.flushHolding(userId, stockId: o.stockId)
            let r = try db.query("""
                UPDATE holdings SET quantity = quantity - $1 WHERE user_id = $2 AND stock_id = $3 AND quantity >= $1
                """, [q, userId, o.stockId])
            guard r.affectedRows == 1 else { throw Rejection(400, "insufficient shares") }
        }
        let id = try nextId(db)
        let cap = o.isBuy ? min(cash, Limits.maxCents) : nil
        let result = st.book.submit(Order.market(id: id, owner: userId, side: o.isBuy ? .buy : .sell, quantity: q,
                                                 maxCost: cap), sequence: UInt64(id))
        if case .rejected(let why) = result.outcome {
            if !o.isBuy { j.addShares(userId, stockId: o.stockId, quantity: q) }
            switch why {
            case .insufficientLiquidity: throw Rejection(400, "insufficient liquidity: fewer than \(q) shares available")
            case .exceedsMaxCost where cash <= Limits.maxCents: throw Rejection(400, "insufficient funds")
            default: throw Rejection(400, "order value is too large")
            }
        }
        if o.isBuy {
            let r = try db.query("UPDATE accounts SET cash_cents = cash_cents - $1 WHERE user_id = $2 RETURNING cash_cents",
                                 [result.cost, userId])
            guard let left = r.int64(0, 0), left >= 0 else {
                throw EngineInvariantError(description: "market buy \(id) cost \(result.cost) beyond the locked balance")
            }
            j.noteCash(userId: userId, cents: left)
        }
        try record(takerId: id, userId: userId, o, st, result, j)
    }

    /// A sell's proceeds must fit the ledger. They are at most quantity × best bid, so only when
    /// that bound is too large does the exact figure need a look at the book (without the owner's bids).
    private func checkProceedsBound(userId: Int64, quantity: Int64, _ st: StockState) throws {
        let bound = quantity.multipliedReportingOverflow(by: st.book.bestBid?.price ?? 0)
        guard bound.overflow || bound.partialValue > Limits.maxCents else { return }
        guard let quote = try? st.book.quoteCost(side: .sell, quantity: quantity, owner: userId),
              quote.cost <= Limits.maxCents else { throw Rejection(400, "order value is too large") }
    }
}
