import Ledger
import ServiceCore

/// A user's account, locked for the rest of the transaction (the per-user mutex of every command).
struct LockedAccount {
    let userId: Int64
    var cash: Int64
    var reserved: Int64
}

extension ClassicEngine {
    /// Locks the user's account row, or UNKNOWN_USER; applies lazy expiry of pending BUY/SELLs.
    func lockAccount(_ tx: PGConnection, _ c: inout CommandContext) throws -> LockedAccount {
        let user = try c.requireUser()
        let r = try tx.query(
            """
            SELECT a.user_id, a.cash_cents, a.reserved_cents, \(ClassicSchema.pendingDue("$2::BIGINT"))
            FROM users u JOIN accounts a ON a.user_id = u.id
            WHERE u.user_name = $1 AND ($3::BIGINT IS NULL OR u.id = $3) FOR UPDATE OF a
            """, [user, c.t, c.request.actingUserId])
        guard let id = r.int64(0, 0), let cash = r.int64(0, 1), let reserved = r.int64(0, 2) else {
            throw ClassicError(.UNKNOWN_USER, "account '\(user)' does not exist")
        }
        var acct = LockedAccount(userId: id, cash: cash, reserved: reserved)
        if r.bool(0, 3) == true {
            let n = try expireDue(tx, userId: id, now: c.t, log: &c.log)
            c.expiredBuys += n.buys
            c.expiredSells += n.sells
            let again = try tx.query("SELECT cash_cents, reserved_cents FROM accounts WHERE user_id = $1", [id])
            acct.cash = again.int64(0, 0) ?? acct.cash
            acct.reserved = again.int64(0, 1) ?? acct.reserved
        }
        return acct
    }

    /// Read-only checks of QUOTE/BUY/SELL before the (possibly paid) quote.
    struct Precheck {
        let username: String
        let userId: Int64
        let symbol: String
        let amount: Int64
    }

    /// One read for all of it: the account and, for SELL, the shares held.
    func precheck(_ c: inout CommandContext, _ db: PGConnection) throws -> Precheck {
        let user = try c.requireUser()
        let sellSymbol = c.request.command == .SELL ? ClassicInput.symbol(c.request.stock) : nil
        let r = try db.query(
            """
            SELECT a.user_id, a.cash_cents,
                   (SELECT h.quantity + h.reserved FROM holdings h JOIN stocks s ON s.id = h.stock_id
                    WHERE h.user_id = a.user_id AND s.name = $3::TEXT)
            FROM (SELECT 1) AS one
            LEFT JOIN (users u JOIN accounts a ON a.user_id = u.id) ON u.user_name = $1 AND ($2::BIGINT IS NULL OR u.id = $2)
            """, [user, c.request.actingUserId, sellSymbol])
        guard let userId = r.int64(0, 0), let cash = r.int64(0, 1) else {
            throw ClassicError(.UNKNOWN_USER, "account '\(user)' does not exist")
        }
        let symbol = try ClassicInput.requireSymbol(c.request.stock)
        switch c.request.command {
        case .BUY:
            let amount = try ClassicInput.positiveAmount(c.request.amount)
            guard cash >= amount else {
                throw ClassicError(.INSUFFICIENT_FUNDS, "cash \(Money.format(cash)) < amount \(Money.format(amount))")
            }
            return Precheck(username: user, userId: userId, symbol: symbol, amount: amount)
        case .SELL:
            let amount = try ClassicInput.positiveAmount(c.request.amount)
            let owned = r.int64(0, 2) ?? 0
            guard owned > 0 else { throw ClassicError(.NOT_OWNED, "\(user) holds no \(symbol) shares") }
            return Precheck(username: user, userId: userId, symbol: symbol, amount: amount)
        default:
            return Precheck(username: user, userId: userId, symbol: symbol, amount: 0)
        }
    }

    /// Locked free and reserved shares of one holding (0, 0 when there is none).
    func lockHolding(_ tx: PGConnection, userId: Int64, stockId: Int64) throws -> (free: Int64, reserved: Int64) {
        try LedgerTx(tx).lockHolding(userId, stockId: stockId)
    }

    /// Moves shares between free and reserved (positive = reserve more). Checked by the caller.
    func shiftReserved(_ tx: PGConnection, userId: Int64, stockId: Int64, by delta: Int64) throws {
        let ledger = LedgerTx(tx)
        if delta > 0 {
            guard try ledger.reserveShares(userId, stockId: stockId, shares: delta) else {
                throw LedgerInvariantError("holding of user \(userId) cannot reserve \(delta) shares")
            }
        } else if delta < 0 {
            try ledger.releaseShares(userId, stockId: stockId, shares: -delta)
        }
    }

    /// Moves cash between free and reserved (positive = hold more). Checked by the caller.
    func shiftCash(_ tx: PGConnection, userId: Int64, hold delta: Int64) throws {
        let ledger = LedgerTx(tx)
        if delta > 0 {
            guard try ledger.reserveCash(userId, cents: delta) else {
                throw LedgerInvariantError("account \(userId) cannot hold \(delta) cents")
            }
        } else if delta < 0 {
            try ledger.releaseCash(userId, cents: -delta)
        }
    }
}
