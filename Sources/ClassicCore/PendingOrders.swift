import Ledger
import ServiceCore

/// BUY/SELL and their COMMIT/CANCEL: a per-user stack per side, newest first (spec §4).
/// BUY holds shares × price of cash; SELL holds the shares; both expire 60 s after they were made.
extension ClassicEngine {
    struct Pending {
        let id: Int64
        let stockId: Int64
        let symbol: String
        let priceCents: Int64
        let shares: Int64
        let heldCents: Int64
        let expiresAt: Int64
    }

    /// The newest live pending order of one side, locked (lazy expiry already removed dead ones).
    func popNewest(_ tx: PGConnection, userId: Int64, side: Side) throws -> Pending? {
        let r = try tx.query(
            """
            DELETE FROM classic_pending WHERE id = (
                SELECT id FROM classic_pending WHERE user_id = $1 AND side = $2 ORDER BY id DESC LIMIT 1 FOR UPDATE)
            RETURNING id, stock_id, symbol, price_cents, shares, held_cents, expires_ms
            """, [userId, side.rawValue])
        guard let id = r.int64(0, 0), let stockId = r.int64(0, 1), let symbol = r.string(0, 2),
            let price = r.int64(0, 3),
            let shares = r.int64(0, 4), let held = r.int64(0, 5), let exp = r.int64(0, 6)
        else { return nil }
        return Pending(
            id: id, stockId: stockId, symbol: symbol, priceCents: price, shares: shares, heldCents: held, expiresAt: exp
        )
    }

    /// The newest live pending order of one side, locked but kept: a COMMIT deletes it with
    /// `remove` only once the ledger accepted the settlement (a refused one leaves it pending).
    func lockNewest(_ tx: PGConnection, userId: Int64, side: Side) throws -> Pending? {
        let r = try tx.query(
            """
            SELECT id, stock_id, symbol, price_cents, shares, held_cents, expires_ms FROM classic_pending
            WHERE user_id = $1 AND side = $2 ORDER BY id DESC LIMIT 1 FOR UPDATE
            """, [userId, side.rawValue])
        guard let id = r.int64(0, 0), let stockId = r.int64(0, 1), let symbol = r.string(0, 2),
            let price = r.int64(0, 3),
            let shares = r.int64(0, 4), let held = r.int64(0, 5), let exp = r.int64(0, 6)
        else { return nil }
        return Pending(
            id: id, stockId: stockId, symbol: symbol, priceCents: price, shares: shares, heldCents: held, expiresAt: exp
        )
    }

    func remove(_ tx: PGConnection, _ p: Pending) throws {
        guard try tx.query("DELETE FROM classic_pending WHERE id = $1", [p.id]).affectedRows == 1 else {
            throw LedgerInvariantError("pending order \(p.id) vanished under its lock")
        }
    }

    /// NO_PENDING_BUY/SELL, saying which (§10.10): "expired" when this command's own lazy expiry
    /// released the order, or when the user's latest entry about that side is an expiry's
    /// systemEvent (e.g. the 500 ms sweeper's), not a BUY/SELL, COMMIT or CANCEL of theirs since;
    /// otherwise none is pending. The read runs only on this refusal, over the user's last 1,000
    /// entries on the log's (username, id) index (ordered as the index is, so the plan cannot walk
    /// the whole log's primary key instead: an audit found it did, 16 ms at 40k rows).
    func noPending(_ tx: PGConnection, _ c: CommandContext, buy: Bool) throws -> ClassicError {
        let side: (ClassicCommandName, ClassicCommandName, ClassicCommandName) =
            buy ? (.BUY, .COMMIT_BUY, .CANCEL_BUY) : (.SELL, .COMMIT_SELL, .CANCEL_SELL)
        var expired = (buy ? c.expiredBuys : c.expiredSells) > 0
        if !expired, let user = c.username {
            let last = try tx.query(
                """
                SELECT kind FROM (
                    SELECT kind, command, id FROM classic_log WHERE username = $1
                    ORDER BY username DESC, id DESC LIMIT 1000) recent
                WHERE command IN ($2, $3, $4) AND kind IN ('userCommand', 'systemEvent')
                ORDER BY id DESC LIMIT 1
                """, [user, side.0.rawValue, side.1.rawValue, side.2.rawValue])
            expired = last.string(0, 0) == AuditKind.systemEvent.rawValue
        }
        let word = side.0.rawValue
        let sentence = expired ? "the pending \(word) expired (older than 60 s)" : "no \(word) is pending"
        return ClassicError(buy ? .NO_PENDING_BUY : .NO_PENDING_SELL, sentence)
    }

    func insertPending(
        _ tx: PGConnection, _ c: CommandContext, userId: Int64, user: String, side: Side, stockId: Int64,
        symbol: String, price: Int64, shares: Int64, held: Int64
    ) throws {
        try tx.query(
            """
            INSERT INTO classic_pending (user_id, username, side, stock_id, symbol, price_cents, shares, held_cents, created_ms, expires_ms, txn)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
            """,
            [
                userId, user, side.rawValue, stockId, symbol, price, shares, held, c.t, c.t + pendingLifetimeMillis,
                c.txn,
            ])
    }

    // MARK: buy side

    func buy(_ tx: PGConnection, _ c: inout CommandContext, _ pre: Precheck, _ q: Quote) throws -> JSON {
        if let done = try buyFolded(tx, &c, pre, q) { return done }
        let acct = try lockAccount(tx, &c)
        // The precheck ran without a lock: check cash again now that it cannot change.
        guard acct.cash >= pre.amount else { throw Self.insufficientFunds(cash: acct.cash, amount: pre.amount) }
        let shares = pre.amount / q.priceCents
        guard shares > 0 else { throw Self.zeroShares(price: q.priceCents, amount: pre.amount) }
        let cost = shares * q.priceCents
        guard let stockId = try LedgerOps.stockId(tx, name: pre.symbol, create: true) else {
            throw LedgerInvariantError("stock \(pre.symbol) could not be created")
        }
        try shiftCash(tx, userId: acct.userId, hold: cost)
        try insertPending(
            tx, c, userId: acct.userId, user: pre.username, side: .buy, stockId: stockId, symbol: pre.symbol,
            price: q.priceCents, shares: shares, held: cost)
        c.account("remove", cost, user: pre.username)
        return buyResult(c, pre, q, shares: shares, cost: cost, cashBefore: acct.cash)
    }

    func buyResult(_ c: CommandContext, _ pre: Precheck, _ q: Quote, shares: Int64, cost: Int64, cashBefore: Int64)
        -> JSON
    {
        .object([
            ("stock", .string(pre.symbol)), ("price", money(q.priceCents)), ("shares", .int(shares)),
            ("cost", money(cost)), ("expiresAt", .int(c.t + pendingLifetimeMillis)),
            ("cash", money(cashBefore - cost)), ("transactionNum", .int(c.txn)),
        ])
    }

    /// COMMIT_* / CANCEL_*: the folded call (one statement); without it (`DT_CLASSIC_FOLD=0`, or
    /// 'EXPIRE': the expired orders are swept first) `statements` under the account lock.
    /// Returns the settled order and the cash before it.
    private func settle(
        _ tx: PGConnection, _ c: inout CommandContext, side: Side, commit: Bool,
        statements: (LockedAccount, CommandContext) throws -> Pending
    ) throws -> (Pending, Int64) {
        if let folded = try settleFolded(tx, &c, side: side, commit: commit) { return folded }
        // The lock also sweeps expired orders into `c` (what a NO_PENDING answer says).
        let acct = try lockAccount(tx, &c)
        return (try statements(acct, c), acct.cash)
    }

    func commitBuy(_ tx: PGConnection, _ c: inout CommandContext) throws -> JSON {
        let (p, cash) = try settle(tx, &c, side: .buy, commit: true) { acct, c in
            guard let p = try lockNewest(tx, userId: acct.userId, side: .buy) else {
                throw try noPending(tx, c, buy: true)
            }
            // The held cash leaves the system for the shares (a buy from the market).
            guard
                try LedgerTx(tx).settleMarketBuy(
                    acct.userId, stockId: p.stockId, heldCents: p.heldCents, costCents: p.heldCents,
                    shares: p.shares, kind: .classicBuy)
            else { throw ClassicInput.holdingBound }
            try remove(tx, p)
            return p
        }
        return commitBuyResult(c, p, cash: cash)
    }

    func commitBuyResult(_ c: CommandContext, _ p: Pending, cash: Int64) -> JSON {
        .object([
            ("stock", .string(p.symbol)), ("shares", .int(p.shares)), ("price", money(p.priceCents)),
            ("cost", money(p.heldCents)), ("cash", money(cash)), ("transactionNum", .int(c.txn)),
        ])
    }

    func cancelBuy(_ tx: PGConnection, _ c: inout CommandContext) throws -> JSON {
        let user = try c.requireUser()
        let (p, cash) = try settle(tx, &c, side: .buy, commit: false) { acct, c in
            guard let p = try popNewest(tx, userId: acct.userId, side: .buy) else {
                throw try noPending(tx, c, buy: true)
            }
            try shiftCash(tx, userId: acct.userId, hold: -p.heldCents)
            return p
        }
        c.account("add", p.heldCents, user: user)
        return .object([
            ("stock", .string(p.symbol)), ("shares", .int(p.shares)), ("price", money(p.priceCents)),
            ("released", money(p.heldCents)), ("cash", money(cash + p.heldCents)),
            ("transactionNum", .int(c.txn)),
        ])
    }

    // MARK: sell side

    func sell(_ tx: PGConnection, _ c: inout CommandContext, _ pre: Precheck, _ q: Quote) throws -> JSON {
        if let done = try sellFolded(tx, &c, pre, q) { return done }
        let acct = try lockAccount(tx, &c)
        guard let stockId = try LedgerOps.stockId(tx, name: pre.symbol, create: false) else {
            throw ClassicError(.NOT_OWNED, "\(pre.username) holds no \(pre.symbol) shares")
        }
        let holding = try lockHolding(tx, userId: acct.userId, stockId: stockId)
        // The precheck's "owns some" read ran without a lock: a firing may have sold them since.
        guard holding.free + holding.reserved > 0 else {
            throw ClassicError(.NOT_OWNED, "\(pre.username) holds no \(pre.symbol) shares")
        }
        let shares = pre.amount / q.priceCents
        guard shares > 0 else { throw Self.zeroShares(price: q.priceCents, amount: pre.amount) }
        guard holding.free >= shares else { throw Self.insufficientShares(free: holding.free, pre.symbol, shares) }
        let value = shares * q.priceCents
        try shiftReserved(tx, userId: acct.userId, stockId: stockId, by: shares)
        try insertPending(
            tx, c, userId: acct.userId, user: pre.username, side: .sell, stockId: stockId, symbol: pre.symbol,
            price: q.priceCents, shares: shares, held: value)
        return sellResult(c, pre, q, shares: shares)
    }

    func sellResult(_ c: CommandContext, _ pre: Precheck, _ q: Quote, shares: Int64) -> JSON {
        .object([
            ("stock", .string(pre.symbol)), ("price", money(q.priceCents)), ("shares", .int(shares)),
            ("proceeds", money(shares * q.priceCents)), ("expiresAt", .int(c.t + pendingLifetimeMillis)),
            ("transactionNum", .int(c.txn)),
        ])
    }

    func commitSell(_ tx: PGConnection, _ c: inout CommandContext) throws -> JSON {
        let user = try c.requireUser()
        let (p, cash) = try settle(tx, &c, side: .sell, commit: true) { acct, c in
            guard let p = try lockNewest(tx, userId: acct.userId, side: .sell) else {
                throw try noPending(tx, c, buy: false)
            }
            // The held shares leave the system for cash at the SELL's price (a sale to the market).
            guard
                try LedgerTx(tx).settleMarketSell(
                    acct.userId, stockId: p.stockId, shares: p.shares, proceedsCents: p.heldCents,
                    kind: .classicSell)
            else { throw ClassicInput.balanceBound }
            try remove(tx, p)
            return p
        }
        c.account("add", p.heldCents, user: user)
        return .object([
            ("stock", .string(p.symbol)), ("shares", .int(p.shares)), ("price", money(p.priceCents)),
            ("proceeds", money(p.heldCents)), ("cash", money(cash + p.heldCents)),
            ("transactionNum", .int(c.txn)),
        ])
    }

    func cancelSell(_ tx: PGConnection, _ c: inout CommandContext) throws -> JSON {
        let (p, _) = try settle(tx, &c, side: .sell, commit: false) { acct, c in
            guard let p = try popNewest(tx, userId: acct.userId, side: .sell) else {
                throw try noPending(tx, c, buy: false)
            }
            try shiftReserved(tx, userId: acct.userId, stockId: p.stockId, by: -p.shares)
            return p
        }
        return .object([
            ("stock", .string(p.symbol)), ("shares", .int(p.shares)), ("price", money(p.priceCents)),
            ("transactionNum", .int(c.txn)),
        ])
    }
}

/// Classic API money: decimal dollar text, e.g. "123.45".
func money(_ cents: Int64) -> JSON { .string(Money.format(cents)) }
