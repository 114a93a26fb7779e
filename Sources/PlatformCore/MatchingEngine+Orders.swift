import Ledger
import OrderBook
import ServiceCore

// Per-command logic, run on the engine thread inside the batch transaction. The pattern for every
// order: check the book (preview), make the money/share decision with one conditional UPDATE,
// and only if that succeeded change the book and journal the result.
extension MatchingEngine {
    func stockState(_ stockId: Int64, _ db: PGConnection) throws -> StockState {
        if let st = stocks[stockId] { return st }
        guard let name = try db.query("SELECT name FROM stocks WHERE id = $1", [stockId]).string(0, 0) else {
            throw Rejection(404, "unknown stock_id \(stockId)")
        }
        let st = StockState(name: name)
        stocks[stockId] = st
        return st
    }

    func place(userId: Int64, _ o: PlaceOrderRequest, _ j: BatchJournal) throws {
        let db = j.db
        let st = try stockState(o.stockId, db)
        let side: Side = o.isBuy ? .buy : .sell
        let q = o.quantity
        // Lock order, shared with the classic path: a user's account row before any of their
        // holdings (so the engine and a classic command can never wait on each other in a cycle).
        // Every credit an order can bring is reserved as headroom first (`incoming`), so no fill
        // can push anyone past the ledger's bounds later.
        let sellProceedsBound: Int64

        switch o.type {
        case .market:
            let quote: CostQuote
            do { quote = try st.book.quoteCost(side: side, quantity: q, owner: userId) } catch {
                throw Rejection(400, "order value is too large")
            }
            guard quote.fillable == q else {
                throw Rejection(400, "insufficient liquidity: only \(quote.fillable) of \(q) shares available")
            }
            guard quote.cost <= Limits.maxCents else { throw Rejection(400, "order value is too large") }
            if o.isBuy {
                try j.flushAccount(userId)
                let r = try db.query("""
                    UPDATE accounts SET cash_cents = cash_cents - $1 WHERE user_id = $2 AND cash_cents >= $1
                    RETURNING cash_cents, version
                    """, [quote.cost, userId])
                guard r.count == 1 else { throw Rejection(400, "insufficient funds") }
                j.noteCash(userId: userId, r)
                try j.flushHolding(userId, stockId: o.stockId)
                guard try LedgerOps.reserveIncomingShares(db, userId: userId, stockId: o.stockId, shares: q) else {
                    j.addCash(userId, cash: quote.cost)
                    throw Self.holdingBound
                }
                sellProceedsBound = 0
            } else {
                try reserveProceeds(userId, quote.cost, j)
                try j.flushHolding(userId, stockId: o.stockId)
                let r = try db.query("""
                    UPDATE holdings SET quantity = quantity - $1 WHERE user_id = $2 AND stock_id = $3 AND quantity >= $1
                    """, [q, userId, o.stockId])
                guard r.affectedRows == 1 else {
                    j.addCash(userId, incoming: -quote.cost)
                    throw Rejection(400, "insufficient shares")
                }
                sellProceedsBound = quote.cost
            }
            let id = try nextId(db)
            let result = st.book.submit(Order.market(id: id, owner: userId, side: side, quantity: q), sequence: UInt64(id))
            guard case .filled = result.outcome, result.cost == quote.cost else {
                throw EngineInvariantError(description: "market order \(id) did not fill as previewed: \(result.outcome)")
            }
            try record(takerId: id, userId: userId, o, st, result, sellProceedsBound: sellProceedsBound, j)

        case .limit:
            guard let price = o.priceCents else { throw Rejection(400, "a LIMIT order needs a price") }
            let escrow = q * price  // ≤ Limits.maxCents, checked when the request was parsed
            if o.isBuy {
                try j.flushAccount(userId)
                let r = try db.query("""
                    UPDATE accounts SET cash_cents = cash_cents - $1, reserved_cents = reserved_cents + $1
                    WHERE user_id = $2 AND cash_cents >= $1 RETURNING cash_cents, version
                    """, [escrow, userId])
                guard r.count == 1 else { throw Rejection(400, "insufficient funds") }
                j.noteCash(userId: userId, r)
                try j.flushHolding(userId, stockId: o.stockId)
                guard try LedgerOps.reserveIncomingShares(db, userId: userId, stockId: o.stockId, shares: q) else {
                    j.addCash(userId, cash: escrow, reserved: -escrow)
                    throw Self.holdingBound
                }
                sellProceedsBound = 0
            } else {
                // A sell crossing better bids earns more than its limit, at most the best bid.
                let best = max(price, st.book.bestBid?.price ?? 0)
                let (bound, overflow) = q.multipliedReportingOverflow(by: best)
                guard !overflow, bound <= Limits.maxCents else { throw Rejection(400, "order value is too large") }
                try reserveProceeds(userId, bound, j)
                try j.flushHolding(userId, stockId: o.stockId)
                let r = try db.query("""
                    UPDATE holdings SET quantity = quantity - $1, reserved = reserved + $1
                    WHERE user_id = $2 AND stock_id = $3 AND quantity >= $1
                    """, [q, userId, o.stockId])
                guard r.affectedRows == 1 else {
                    j.addCash(userId, incoming: -bound)
                    throw Rejection(400, "insufficient shares")
                }
                sellProceedsBound = bound
            }
            let id = try nextId(db)
            let result = st.book.submit(Order.limit(id: id, owner: userId, side: side, quantity: q, price: price),
                                        sequence: UInt64(id))
            if case .rejected(let why) = result.outcome {
                // The book refused (e.g. a side's volume would overflow): give the escrow back.
                if o.isBuy {
                    j.addCash(userId, cash: escrow, reserved: -escrow)
                    j.addShares(userId, stockId: o.stockId, incoming: -q)
                } else {
                    j.addShares(userId, stockId: o.stockId, quantity: q, reserved: -q)
                    j.addCash(userId, incoming: -sellProceedsBound)
                }
                throw Rejection(400, "order rejected: \(why)")
            }
            try record(takerId: id, userId: userId, o, st, result, sellProceedsBound: sellProceedsBound, j)
        }
    }

    static let holdingBound = Rejection(400, "the holding would exceed \(Limits.maxShares) shares")

    /// Reserves headroom for a sell's proceeds on the seller's account (locking it first).
    private func reserveProceeds(_ userId: Int64, _ cents: Int64, _ j: BatchJournal) throws {
        try j.flushAccount(userId)
        guard try LedgerOps.reserveIncomingCash(j.db, userId: userId, cents: cents) else {
            throw Rejection(400, "the sale could take the balance past \(Money.format(Limits.maxCents))")
        }
    }

    /// Journals an accepted order and its fills: the maker side of every fill gets a child
    /// transaction with its own wallet transaction; the taker gets one parent row, whose wallet
    /// transaction carries the whole amount when it filled at once at one price, and children
    /// otherwise. Cash and share moves go to the journal's per-account/per-holding deltas.
    private func record(takerId: Int64, userId: Int64, _ o: PlaceOrderRequest, _ st: StockState,
                        _ result: SubmitResult, sellProceedsBound: Int64, _ j: BatchJournal) throws {
        let db = j.db
        let now = Clock.wallMillis()
        let stockId = o.stockId
        let fills = result.fills
        let filled = result.filledQuantity
        let remaining = o.quantity - filled

        for f in fills {
            let child = try nextId(db), wallet = try nextId(db)
            j.addTransaction(.init(id: child, userId: f.makerOwner, stockId: stockId, parentId: f.makerOrderId,
                                   walletTxId: wallet, status: .completed, isBuy: !o.isBuy, type: .limit,
                                   priceCents: f.price, quantity: f.quantity, remaining: 0, millis: now))
            j.addWallet(.init(id: wallet, userId: f.makerOwner, stockTxId: child, isDebit: !o.isBuy,
                              cents: f.notional, millis: now))
            j.setOrderState(id: f.makerOrderId, remaining: f.makerRemaining,
                            status: f.makerRemaining == 0 ? .completed : .partiallyComplete)
            if f.makerRemaining == 0 { restingStock[f.makerOrderId] = nil }
            if o.isBuy {
                j.addCash(f.makerOwner, cash: f.notional, incoming: -f.notional)
                j.addShares(f.makerOwner, stockId: stockId, reserved: -f.quantity)
            } else {
                j.addShares(f.makerOwner, stockId: stockId, quantity: f.quantity, incoming: -f.quantity)
                j.addCash(f.makerOwner, reserved: -f.notional)
            }
        }

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
            price = (result.cost + filled * 50) / (filled * 100) * 100
        } else {
            price = o.priceCents ?? 0
        }
        let takerWallet: Int64? = whole ? try nextId(db) : nil
        j.addTransaction(.init(id: takerId, userId: userId, stockId: stockId, parentId: nil, walletTxId: takerWallet,
                               status: .of(quantity: o.quantity, remaining: remaining), isBuy: o.isBuy, type: o.type,
                               priceCents: price, quantity: o.quantity, remaining: remaining, millis: now))
        if let w = takerWallet {
            j.addWallet(.init(id: w, userId: userId, stockTxId: takerId, isDebit: o.isBuy, cents: result.cost, millis: now))
        } else {
            for f in fills {
                let child = try nextId(db), wallet = try nextId(db)
                j.addTransaction(.init(id: child, userId: userId, stockId: stockId, parentId: takerId, walletTxId: wallet,
                                       status: .completed, isBuy: o.isBuy, type: o.type, priceCents: f.price,
                                       quantity: f.quantity, remaining: 0, millis: now))
                j.addWallet(.init(id: wallet, userId: userId, stockTxId: child, isDebit: o.isBuy, cents: f.notional, millis: now))
            }
        }

        switch (o.isBuy, o.type) {
        case (true, .market):
            j.addShares(userId, stockId: stockId, quantity: filled, incoming: -o.quantity)
        case (true, .limit):
            let limit = o.priceCents ?? 0
            j.addShares(userId, stockId: stockId, quantity: filled, incoming: -filled)
            // Release the escrow of the filled part; refund the price improvement.
            j.addCash(userId, cash: filled * limit - result.cost, reserved: -(filled * limit))
        case (false, .limit):
            // The headroom shrinks to what the resting remainder can still earn at its limit.
            j.addShares(userId, stockId: stockId, reserved: -filled)
            j.addCash(userId, cash: result.cost, incoming: remaining * (o.priceCents ?? 0) - sellProceedsBound)
        case (false, .market):
            j.addCash(userId, cash: result.cost, incoming: -sellProceedsBound)
        }
        if remaining > 0 { restingStock[takerId] = stockId }
        if let last = fills.last { st.lastTrade = last.price }
        if !fills.isEmpty || remaining > 0 { pricesDirty = true }
    }

    func cancel(userId: Int64, stockTxId: Int64, _ j: BatchJournal) throws {
        guard let stockId = restingStock[stockTxId], let st = stocks[stockId] else {
            let r = try j.db.query("SELECT user_id, status FROM stock_transactions WHERE id = $1", [stockTxId])
            guard r.count == 1, r.int64(0, 0) == userId else { throw Rejection(404, "no such stock transaction") }
            throw Rejection(400, "stock transaction \(stockTxId) is \(r.string(0, 1) ?? "closed"): nothing to cancel")
        }
        let order: RestingOrder
        do { order = try st.book.cancel(orderId: stockTxId, owner: userId) } catch {
            throw Rejection(404, "no such stock transaction")
        }
        restingStock[stockTxId] = nil
        j.setOrderState(id: stockTxId, remaining: order.remaining, status: .cancelled)
        if order.side == .sell {
            j.addShares(userId, stockId: stockId, quantity: order.remaining, reserved: -order.remaining)
            j.addCash(userId, incoming: -(order.remaining * order.price))
        } else {
            let amount = order.remaining * order.price
            j.addCash(userId, cash: amount, reserved: -amount)
            j.addShares(userId, stockId: stockId, incoming: -order.remaining)
        }
        pricesDirty = true
    }

    func deposit(userId: Int64, cents: Int64, _ j: BatchJournal) throws {
        try j.flushAccount(userId)
        let r = try j.db.query("""
            INSERT INTO accounts (user_id, cash_cents) VALUES ($1, $2)
            ON CONFLICT (user_id) DO UPDATE SET cash_cents = accounts.cash_cents + EXCLUDED.cash_cents
            WHERE accounts.cash_cents + accounts.reserved_cents + accounts.incoming_cents <= $3 - EXCLUDED.cash_cents
            RETURNING cash_cents, version
            """, [userId, cents, Limits.maxCents])
        guard r.count == 1 else { throw Rejection(400, "the balance would exceed the ledger's limit") }
        j.noteCash(userId: userId, r)
        j.addFlow(.init(userId: userId, kind: "deposit", cents: cents, stockId: nil, shares: 0))
    }
}
