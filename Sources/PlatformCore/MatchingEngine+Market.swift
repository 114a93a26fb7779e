import Ledger
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
        var proceedsBound: Int64 = 0
        if o.isBuy {
            try j.flushAccount(userId)
            cash =
                try db.query("SELECT cash_cents FROM accounts WHERE user_id = $1 FOR UPDATE", [userId]).int64(0, 0) ?? 0
            try reserveShares(userId, stockId: o.stockId, q, j)
        } else {
            proceedsBound = try sellProceedsBound(q, limit: 0, st, owner: userId)
            try reserveProceeds(userId, proceedsBound, j)
            try j.flushHolding(userId, stockId: o.stockId)
            guard try LedgerTx(db).takeFreeShares(userId, stockId: o.stockId, shares: q) else {
                j.addCash(userId, incoming: -proceedsBound)
                throw Rejection(400, "insufficient shares")
            }
        }
        let id = try nextId(db)
        let cap = o.isBuy ? min(cash, Limits.maxCents) : nil
        let result = st.book.submit(
            Order.market(
                id: id, owner: userId, side: o.isBuy ? .buy : .sell, quantity: q,
                maxCost: cap), sequence: UInt64(id))
        if case .rejected(let why) = result.outcome {
            // Nothing traded: give back the escrowed shares and the headroom.
            if o.isBuy {
                j.addShares(userId, stockId: o.stockId, incoming: -q)
            } else {
                j.addShares(userId, stockId: o.stockId, quantity: q)
                j.addCash(userId, incoming: -proceedsBound)
            }
            switch why {
            case .insufficientLiquidity:
                throw Rejection(400, "insufficient liquidity: fewer than \(q) shares available")
            case .exceedsMaxCost where cash <= Limits.maxCents: throw Rejection(400, "insufficient funds")
            default: throw Rejection(400, "order value is too large")
            }
        }
        if o.isBuy {
            guard let left = try LedgerTx(db).debitCash(userId, cents: result.cost), left.cents >= 0 else {
                throw EngineInvariantError(
                    description: "market buy \(id) cost \(result.cost) beyond the locked balance")
            }
            j.noteCash(left)
        }
        try record(takerId: id, userId: userId, o, st, result, proceedsBound: proceedsBound, j)
    }
}
