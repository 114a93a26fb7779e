import Ledger
import OrderBook
import ServiceCore

// Amend of a resting order (engine thread, inside the batch transaction). Same pattern as an
// order: the escrow decision first (a conditional UPDATE when more is reserved, a journal delta
// when some comes back), then the book, then the ledger rows. Lowering the quantity at the same
// price keeps the order's place; anything else gives it a new seq (the back of its new level) and
// it may trade at once as a taker, recorded like a limit taker's fills on the existing parent.
extension MatchingEngine {
    public func amend(userId: Int64, _ order: AmendOrderRequest, key: IdempotencyTicket? = nil) -> EngineOutcome {
        submit(.amend(userId: userId, order: order, key: key))
    }

    func amend(userId: Int64, _ a: AmendOrderRequest, _ j: BatchJournal) throws {
        guard let stockId = restingStock[a.stockTxId], let st = stocks[stockId],
            let old = st.book.order(id: a.stockTxId), old.owner == userId
        else {
            let r = try j.db.query(
                "SELECT user_id, status FROM stock_transactions WHERE id = $1 AND parent_id IS NULL",
                [a.stockTxId])
            guard r.count == 1, r.int64(0, 0) == userId else { throw Rejection(404, "no such stock transaction") }
            let status = j.pendingStatus(of: a.stockTxId)?.rawValue ?? r.string(0, 1) ?? "closed"
            throw Rejection(400, "stock transaction \(a.stockTxId) is \(status): nothing to amend")
        }
        let isBuy = old.side == .buy
        let quantity = try orderQuantity(a.stockTxId, j)
        let filled = quantity - old.remaining
        let newQuantity = a.quantity ?? quantity
        guard newQuantity > filled else {
            throw Rejection(400, "quantity must be more than the \(filled) shares already filled")
        }
        let newRemaining = newQuantity - filled
        let newPrice = a.priceCents ?? old.price
        let (notional, overflow) = newRemaining.multipliedReportingOverflow(by: newPrice)
        guard !overflow, notional <= Limits.maxCents else { throw Rejection(400, "quantity × price is too large") }

        // Headroom first (the account row is locked before any holding), then the escrow: a buy
        // reserves remaining × price in cash, a sell its remaining shares.
        try lockAccount(userId, j)
        let headroom = isBuy ? newRemaining : try sellProceedsBound(newRemaining, limit: newPrice, st, owner: userId)
        let headroomDelta = headroom - (isBuy ? old.remaining : old.remaining * old.price)
        try adjustHeadroom(userId, stockId: stockId, isBuy: isBuy, headroomDelta, j)
        let delta = isBuy ? notional - old.remaining * old.price : newRemaining - old.remaining
        do { try reserveMore(userId, stockId: stockId, isBuy: isBuy, delta, j) } catch {
            releaseHeadroom(userId, stockId: stockId, isBuy: isBuy, headroomDelta, j)
            throw error
        }

        let keeps = newPrice == old.price && newRemaining <= old.remaining
        let seq: Int64? = keeps ? nil : try nextId(j.db)
        var fills: [Fill] = []
        let amended: AmendReport
        do {
            amended = try st.book.amend(
                orderId: old.id, owner: userId, quantity: newRemaining, price: newPrice,
                sequence: seq.map { UInt64($0) }, fills: &fills)
        } catch {
            // The book refused (a side's volume would overflow): undo the escrow and headroom changes.
            if isBuy {
                j.addCash(userId, cash: delta, reserved: -delta)
            } else {
                j.addShares(userId, stockId: stockId, quantity: delta, reserved: -delta)
            }
            releaseHeadroom(userId, stockId: stockId, isBuy: isBuy, headroomDelta, j)
            throw Rejection(400, "amend rejected: \(error)")
        }

        let now = Clock.wallMillis()
        let taken = amended.report.filledQuantity
        try recordMakerFills(fills, takerIsBuy: isBuy, stockId: stockId, now: now, j)
        try recordTakerChildren(
            fills, takerId: old.id, userId: userId, stockId: stockId, isBuy: isBuy, type: .limit,
            now: now, j)
        let remaining = newRemaining - taken
        settleLimitTaker(
            userId, stockId: stockId, isBuy: isBuy, limit: newPrice, filled: taken,
            cost: amended.report.cost, remaining: remaining, proceedsBound: headroom, j)
        j.amendOrder(
            id: old.id, quantity: newQuantity, priceCents: newPrice,
            seq: amended.keptPriority ? nil : seq)
        j.setOrderState(
            id: old.id, remaining: remaining, status: .of(quantity: newQuantity, remaining: remaining), owner: userId,
            filledCents: amended.report.cost)
        j.events.touchedStocks.insert(stockId)
        if remaining == 0 { restingStock[old.id] = nil }
        if let last = fills.last { st.lastTrade = last.price }
        pricesDirty = true
    }

    /// Moves `delta` more into escrow (a conditional UPDATE that answers 400 when the free cash or
    /// shares are short), or releases −delta through the journal.
    private func reserveMore(_ userId: Int64, stockId: Int64, isBuy: Bool, _ delta: Int64, _ j: BatchJournal) throws {
        if delta < 0 {
            if isBuy {
                j.addCash(userId, cash: -delta, reserved: delta)
            } else {
                j.addShares(userId, stockId: stockId, quantity: -delta, reserved: delta)
            }
        } else if delta > 0 && isBuy {
            try j.flushAccount(userId)
            guard let row = try LedgerTx(j.db).reserveCashVersioned(userId, cents: delta) else {
                throw Rejection(400, "insufficient funds")
            }
            j.noteCash(row)
        } else if delta > 0 {
            try j.flushHolding(userId, stockId: stockId)
            guard try LedgerTx(j.db).reserveShares(userId, stockId: stockId, shares: delta) else {
                throw Rejection(400, "insufficient shares")
            }
        }
    }

    /// The order's total quantity as the ledger will have it: amended or placed in this batch,
    /// or as committed.
    private func orderQuantity(_ id: Int64, _ j: BatchJournal) throws -> Int64 {
        if let q = j.pendingQuantity(id) { return q }
        guard let q = try j.db.query("SELECT quantity FROM stock_transactions WHERE id = $1", [id]).int64(0, 0) else {
            throw EngineInvariantError(description: "resting order \(id) has no ledger row")
        }
        return q
    }
}
