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
        let r = try tx.query("""
            SELECT a.user_id, a.cash_cents, a.reserved_cents,
                   EXISTS (SELECT 1 FROM classic_pending p WHERE p.user_id = a.user_id AND p.expires_ms <= $2)
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

    func precheck(_ c: inout CommandContext, _ db: PGConnection) throws -> Precheck {
        let user = try c.requireUser()
        let r = try db.query("""
            SELECT a.user_id, a.cash_cents FROM users u JOIN accounts a ON a.user_id = u.id
            WHERE u.user_name = $1 AND ($2::BIGINT IS NULL OR u.id = $2)
            """, [user, c.request.actingUserId])
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
            let owned = try db.query("""
                SELECT h.quantity + h.reserved FROM holdings h JOIN stocks s ON s.id = h.stock_id
                WHERE h.user_id = $1 AND s.name = $2
                """, [userId, symbol]).int64(0, 0) ?? 0
            guard owned > 0 else { throw ClassicError(.NOT_OWNED, "\(user) holds no \(symbol) shares") }
            return Precheck(username: user, userId: userId, symbol: symbol, amount: amount)
        default:
            return Precheck(username: user, userId: userId, symbol: symbol, amount: 0)
        }
    }

    /// Adds `shares` free shares (creating the holding), or the holding-bound error.
    func addShares(_ tx: PGConnection, userId: Int64, stockId: Int64, shares: Int64) throws {
        guard try LedgerOps.creditShares(tx, userId: userId, stockId: stockId, shares: shares) else {
            throw ClassicInput.holdingBound
        }
    }

    /// Adds free cash, or the balance-bound error.
    func addCash(_ tx: PGConnection, userId: Int64, cents: Int64) throws {
        guard try LedgerOps.credit(tx, userId: userId, cents: cents) != nil else { throw ClassicInput.balanceBound }
    }

    /// Locked free and reserved shares of one holding (0, 0 when there is none).
    func lockHolding(_ tx: PGConnection, userId: Int64, stockId: Int64) throws -> (free: Int64, reserved: Int64) {
        let r = try tx.query("SELECT quantity, reserved FROM holdings WHERE user_id = $1 AND stock_id = $2 FOR UPDATE", [userId, stockId])
        return (r.int64(0, 0) ?? 0, r.int64(0, 1) ?? 0)
    }

    /// Moves shares between free and reserved (positive = reserve more). Checked by the caller.
    func shiftReserved(_ tx: PGConnection, userId: Int64, stockId: Int64, by delta: Int64) throws {
        guard delta != 0 else { return }
        let r = try tx.query("""
            UPDATE holdings SET quantity = quantity - $3, reserved = reserved + $3
            WHERE user_id = $1 AND stock_id = $2 AND quantity >= $3 AND reserved >= -$3
            """, [userId, stockId, delta])
        guard r.affectedRows == 1 else { throw LedgerInvariantError("holding of user \(userId) cannot move \(delta) shares") }
    }

    /// Moves cash between free and reserved (positive = hold more). Checked by the caller.
    func shiftCash(_ tx: PGConnection, userId: Int64, hold delta: Int64) throws {
        guard delta != 0 else { return }
        let r = try tx.query("""
            UPDATE accounts SET cash_cents = cash_cents - $2, reserved_cents = reserved_cents + $2
            WHERE user_id = $1 AND cash_cents >= $2 AND reserved_cents >= -$2
            """, [userId, delta])
        guard r.affectedRows == 1 else { throw LedgerInvariantError("account \(userId) cannot hold \(delta) cents") }
    }
}
