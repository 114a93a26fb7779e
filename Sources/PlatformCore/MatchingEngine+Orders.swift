import Ledger
import OrderBook
import ServiceCore

// Per-command logic, run on the engine thread inside the batch transaction. The pattern for every
// order: make the money/share decision with a conditional UPDATE (or a row lock), change the book
// only within what was decided, and journal the result. Lock order, shared with the classic path:
// a user's account row before any of their holdings (so the engine and a classic command can never
// wait on each other in a cycle). Every credit an order can bring is reserved as headroom first
// (`incoming`, MatchingEngine+Headroom), so no fill can push anyone past the ledger's bounds later.
extension MatchingEngine {
    func stockState(_ stockId: Int64, _ db: PGConnection) throws -> StockState {
        if let st = stocks[stockId] { return st }
        let r = try db.query("SELECT name, shard FROM stocks WHERE id = $1", [stockId])
        guard let name = r.string(0, 0), let stored = r.int64(0, 1) else {
            throw Rejection(404, "unknown stock_id \(stockId)")
        }
        // Another shard holds this book: matching it here too would split its orders.
        guard shard.owns(stored: stored) else {
            throw Rejection(503, "stock_id \(stockId) belongs to engine shard \(shard.owner(stored: stored))")
        }
        let st = StockState(name: name)
        stocks[stockId] = st
        return st
    }

    func place(userId: Int64, _ o: PlaceOrderRequest, _ j: BatchJournal) throws {
        let db = j.db
        let st = try stockState(o.stockId, db)
        let side: OrderSide = o.isBuy ? .buy : .sell
        let q = o.quantity

        switch o.type {
        case .market:
            try placeMarket(userId: userId, o, st, j)

        case .limit:
            guard let price = o.priceCents else { throw Rejection(400, "a LIMIT order needs a price") }
            let escrow = q * price // ≤ Limits.maxCents, checked when the request was parsed
            let proceedsBound: Int64
            if o.isBuy {
                try j.flushAccount(userId)
                guard let row = try LedgerTx(db).reserveCashVersioned(userId, cents: escrow) else {
                    throw Rejection(400, "insufficient funds")
                }
                j.noteCash(row)
                do { try reserveShares(userId, stockId: o.stockId, q, j) } catch {
                    j.addCash(userId, cash: escrow, reserved: -escrow)
                    throw error
                }
                proceedsBound = 0
            } else {
                proceedsBound = try sellProceedsBound(q, limit: price, st, owner: userId)
                try reserveProceeds(userId, proceedsBound, j)
                try j.flushHolding(userId, stockId: o.stockId)
                guard try LedgerTx(db).reserveShares(userId, stockId: o.stockId, shares: q) else {
                    j.addCash(userId, incoming: -proceedsBound)
                    throw Rejection(400, "insufficient shares")
                }
            }
            let id = try nextId(db)
            let result = st.book.submit(
                Order.limit(
                    id: id, owner: userId, side: side, quantity: q, price: price,
                    timeInForce: o.timeInForce), sequence: UInt64(id))
            if case .rejected(let why) = result.outcome {
                // The book refused (e.g. a side's volume would overflow, a FOK that cannot fill):
                // give the escrow and the headroom back.
                if o.isBuy {
                    j.addCash(userId, cash: escrow, reserved: -escrow)
                    j.addShares(userId, stockId: o.stockId, incoming: -q)
                } else {
                    j.addShares(userId, stockId: o.stockId, quantity: q, reserved: -q)
                    j.addCash(userId, incoming: -proceedsBound)
                }
                throw Rejection.limitOrder(why, quantity: q)
            }
            try record(takerId: id, userId: userId, o, st, result, proceedsBound: proceedsBound, j)
            if case .cancelled(let unfilled) = result.outcome {
                // IOC: what did not fill now is cancelled at once, exactly like a cancel.
                restingStock[id] = nil
                releaseUnfilled(
                    orderId: id, userId: userId, stockId: o.stockId, isBuy: o.isBuy, remaining: unfilled,
                    price: price, j)
            }
        }
    }

    /// Journals an accepted order and its fills: the maker side of every fill gets a child
    /// transaction with its own wallet transaction; the taker gets one parent row, whose wallet
    /// transaction carries the whole amount when it filled at once at one price, and children
    /// otherwise. Cash and share moves go to the journal's per-account/per-holding deltas.
    /// `proceedsBound`: the headroom a sell reserved before matching (0 for buys).
    func record(
        takerId: Int64, userId: Int64, _ o: PlaceOrderRequest, _ st: StockState,
        _ result: SubmitResult, proceedsBound: Int64, _ j: BatchJournal
    ) throws {
        let db = j.db
        let now = Clock.wallMillis()
        let stockId = o.stockId
        let fills = result.fills
        let filled = result.filledQuantity
        let remaining = o.quantity - filled

        try recordMakerFills(fills, takerIsBuy: o.isBuy, stockId: stockId, now: now, j)

        let onePrice = fills.allSatisfy { $0.price == fills.first?.price }
        let whole = remaining == 0 && !fills.isEmpty && onePrice
        // The parent shows its limit while any of it rests (the book is rebuilt from that price);
        // once done, the price it traded at: the fill's price, or the volume-weighted average of
        // several, rounded to whole currency units. So a parent that carries the wallet
        // transaction (one fill, one price) satisfies amount = quantity × stock_price.
        let price: Int64
        if remaining > 0, let limit = o.priceCents {
            price = limit
        } else if onePrice, let first = fills.first {
            price = first.price
        } else if filled > 0 {
            price = BatchJournal.averagePrice(result.cost, quantity: filled)
        } else {
            price = o.priceCents ?? 0
        }
        let takerWallet: Int64? = whole ? try nextId(db) : nil
        j.addTransaction(
            .init(
                id: takerId, userId: userId, stockId: stockId, parentId: nil, walletTxId: takerWallet,
                status: .of(quantity: o.quantity, remaining: remaining), isBuy: o.isBuy, type: o.type,
                priceCents: price, quantity: o.quantity, remaining: remaining, millis: now,
                filledCents: result.cost))
        if let w = takerWallet {
            j.addWallet(
                .init(id: w, userId: userId, stockTxId: takerId, isDebit: o.isBuy, cents: result.cost, millis: now))
        } else {
            try recordTakerChildren(
                fills, takerId: takerId, userId: userId, stockId: stockId, isBuy: o.isBuy,
                type: o.type, now: now, j)
        }

        switch (o.isBuy, o.type) {
        case (true, .market):
            j.addShares(userId, stockId: stockId, quantity: filled, incoming: -o.quantity)
        case (_, .limit):
            settleLimitTaker(
                userId, stockId: stockId, isBuy: o.isBuy, limit: o.priceCents ?? 0, filled: filled,
                cost: result.cost, remaining: remaining, proceedsBound: proceedsBound, j)
        case (false, .market):
            j.addCash(userId, cash: result.cost, incoming: -proceedsBound)
        }
        if remaining > 0 { restingStock[takerId] = stockId }
        if let last = fills.last { st.lastTrade = last.price }
        if !fills.isEmpty || remaining > 0 { pricesDirty = true }
    }

    func cancel(userId: Int64, stockTxId: Int64, _ j: BatchJournal) throws {
        guard let stockId = restingStock[stockTxId], let st = stocks[stockId] else {
            let r = try j.db.query("SELECT user_id, status FROM stock_transactions WHERE id = $1", [stockTxId])
            guard r.count == 1, r.int64(0, 0) == userId else { throw Rejection(404, "no such stock transaction") }
            let status = j.pendingStatus(of: stockTxId)?.rawValue ?? r.string(0, 1) ?? "closed"
            throw Rejection(400, "stock transaction \(stockTxId) is \(status): nothing to cancel")
        }
        let order: RestingOrder
        do { order = try st.book.cancel(orderId: stockTxId, owner: userId) } catch {
            throw Rejection(404, "no such stock transaction")
        }
        restingStock[stockTxId] = nil
        releaseUnfilled(
            orderId: stockTxId, userId: userId, stockId: stockId, isBuy: order.side == .buy,
            remaining: order.remaining, price: order.price, j)
        pricesDirty = true
    }

    func deposit(userId: Int64, cents: Int64, _ j: BatchJournal) throws {
        try j.flushAccount(userId)
        guard let row = try LedgerTx(j.db).creditCashVersioned(userId, cents: cents, bound: Limits.maxCents) else {
            throw Rejection(400, "the balance would exceed the ledger's limit")
        }
        j.noteCash(row)
        j.addFlow(LedgerFlow(userId: userId, kind: .deposit, cents: cents))
    }
}
