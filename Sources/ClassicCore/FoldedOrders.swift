import Ledger
import ServiceCore

/// The one-call paths of BUY, SELL and their COMMIT/CANCEL (`ClassicSchema.functions`). Each
/// returns nil when the function found an expired pending order of the user (or folding is off):
/// the caller then runs its statement-by-statement path, which expires and logs first (§10.4).
/// Outcomes, sentences and log entries are the Swift path's own.
extension ClassicEngine {
    /// One folded call: the user, acting id and decision time first, then `args`. Throws
    /// UNKNOWN_USER; nil = 'EXPIRE'; else the row (status in column 0).
    func callFolded(_ tx: PGConnection, _ c: CommandContext, _ sql: String, _ args: [any PGBindable])
        throws -> (status: String, row: PGResult)?
    {
        guard folded else { return nil }
        let user = try c.requireUser()
        let r = try tx.query(sql, [user, c.request.actingUserId, c.t] + args)
        guard let status = r.string(0, 0) else { throw LedgerInvariantError("\(sql) returned no status") }
        switch status {
        case "EXPIRE": return nil
        case "UNKNOWN_USER": throw ClassicError(.UNKNOWN_USER, "account '\(user)' does not exist")
        default: return (status, r)
        }
    }

    private func unexpected(_ status: String, _ command: ClassicCommandName) -> LedgerInvariantError {
        LedgerInvariantError("folded \(command.rawValue) returned status \(status)")
    }

    func buyFolded(_ tx: PGConnection, _ c: inout CommandContext, _ pre: Precheck, _ q: Quote) throws -> JSON? {
        guard
            let (status, r) = try callFolded(
                tx, c, "SELECT * FROM classic_buy($1, $2::BIGINT, $3, $4, $5, $6, $7, $8)",
                [pre.symbol, pre.amount, q.priceCents, pendingLifetimeMillis, c.txn])
        else { return nil }
        let cash = r.int64(0, 1) ?? 0
        let shares = pre.amount / q.priceCents
        let cost = shares * q.priceCents
        switch status {
        case "OK": break
        case "INSUFFICIENT_FUNDS": throw Self.insufficientFunds(cash: cash, amount: pre.amount)
        case "ZERO_SHARES": throw Self.zeroShares(price: q.priceCents, amount: pre.amount)
        default: throw unexpected(status, .BUY)
        }
        c.account("remove", cost, user: pre.username)
        return buyResult(c, pre, q, shares: shares, cost: cost, cashBefore: cash)
    }

    func sellFolded(_ tx: PGConnection, _ c: inout CommandContext, _ pre: Precheck, _ q: Quote) throws -> JSON? {
        guard
            let (status, r) = try callFolded(
                tx, c, "SELECT * FROM classic_sell($1, $2::BIGINT, $3, $4, $5, $6, $7, $8)",
                [pre.symbol, pre.amount, q.priceCents, pendingLifetimeMillis, c.txn])
        else { return nil }
        let shares = pre.amount / q.priceCents
        switch status {
        case "OK": break
        case "NOT_OWNED": throw ClassicError(.NOT_OWNED, "\(pre.username) holds no \(pre.symbol) shares")
        case "ZERO_SHARES": throw Self.zeroShares(price: q.priceCents, amount: pre.amount)
        case "INSUFFICIENT_SHARES": throw Self.insufficientShares(free: r.int64(0, 1) ?? 0, pre.symbol, shares)
        default: throw unexpected(status, .SELL)
        }
        return sellResult(c, pre, q, shares: shares)
    }

    /// COMMIT_BUY / COMMIT_SELL / CANCEL_BUY / CANCEL_SELL: (order, free cash before the move).
    func settleFolded(_ tx: PGConnection, _ c: inout CommandContext, side: Side, commit: Bool) throws
        -> (Pending, Int64)?
    {
        let fn = commit ? "classic_commit" : "classic_cancel"
        guard
            let (status, r) = try callFolded(
                tx, c, "SELECT * FROM \(fn)($1, $2::BIGINT, $3, $4::CHAR(1))", [side.rawValue])
        else { return nil }
        switch status {
        case "OK": break
        case "NO_PENDING": throw try noPending(tx, c, buy: side == .buy)
        case "BOUND" where commit: throw side == .buy ? ClassicInput.holdingBound : ClassicInput.balanceBound
        default: throw unexpected(status, c.request.command)
        }
        guard let cash = r.int64(0, 1), let symbol = r.string(0, 2), let shares = r.int64(0, 3),
            let price = r.int64(0, 4), let held = r.int64(0, 5)
        else { throw LedgerInvariantError("\(fn) returned an incomplete row") }
        // stockId and expiresAt are not used by the callers' answers.
        let p = Pending(
            id: 0, stockId: 0, symbol: symbol, priceCents: price, shares: shares, heldCents: held, expiresAt: 0)
        return (p, cash)
    }

    static func insufficientFunds(cash: Int64, amount: Int64) -> ClassicError {
        ClassicError(.INSUFFICIENT_FUNDS, "cash \(Money.format(cash)) < amount \(Money.format(amount))")
    }

    static func zeroShares(price: Int64, amount: Int64) -> ClassicError {
        ClassicError(
            .ZERO_SHARES, "price \(Money.format(price)) is above amount \(Money.format(amount)): 0 whole shares")
    }

    static func insufficientShares(free: Int64, _ symbol: String, _ shares: Int64) -> ClassicError {
        ClassicError(.INSUFFICIENT_SHARES, "\(free) free \(symbol) shares < \(shares) to sell")
    }
}
