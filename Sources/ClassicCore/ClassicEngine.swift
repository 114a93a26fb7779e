import Ledger
import ServiceCore

/// The classic command set over the shared ledger. Each command runs as ONE PostgreSQL
/// transaction that writes its money moves and its audit entries together; a failed command
/// writes its userCommand + errorEvent and changes nothing else. Thread-safe: callers pass their
/// own (per-thread) PostgreSQL and Redis connections.
public final class ClassicEngine: Sendable {
    public let clock: any WallClock
    public let quotes: QuoteCache
    /// The log's `server` field.
    public let server: String
    /// A pending BUY/SELL is live for commands stamped < created + this (spec: 60 s).
    public let pendingLifetimeMillis: Int64 = 60_000

    public init(clock: any WallClock, quotes: QuoteCache, server: String) {
        self.clock = clock
        self.quotes = quotes
        self.server = server
    }

    /// Result of one command.
    public struct Outcome: Sendable {
        public let transactionNum: Int64
        /// The command's log timestamp.
        public let timestamp: Int64
        public let result: Result<JSON, ClassicError>
        /// Triggers fired because this command obtained a fresh quote.
        public let triggersFired: Int

        public var data: JSON? { if case .success(let j) = result { return j } else { return nil } }
        public var error: ClassicError? { if case .failure(let e) = result { return e } else { return nil } }
    }

    /// Runs one command (not DUMPLOG: see `beginDump`). Throws only for infrastructure failures
    /// (database unreachable); every business failure is an `Outcome` with an error.
    public func execute(_ req: ClassicRequest, db: PGConnection, redis: RedisConnection?) throws -> Outcome {
        let txn = try transactionNumber(req, db)
        guard req.command != .DUMPLOG else {
            return Outcome(transactionNum: txn, timestamp: clock.nowMillis(),
                           result: .failure(ClassicError(.INVALID_ARGUMENT, "DUMPLOG goes through beginDump/writeDump")), triggersFired: 0)
        }
        var c = CommandContext(request: req, txn: txn, t: clock.nowMillis(), server: server)
        var fresh: Quote?
        let result: Result<JSON, ClassicError>
        do {
            switch req.command {
            case .QUOTE, .BUY, .SELL:
                // §10.2: checks that need no price, then the quote, then the rest under lock.
                let pre = try precheck(&c, db)
                let look = try quotes.get(symbol: pre.symbol, user: pre.username, redis: redis)
                c.t = look.at
                if look.fresh {
                    fresh = look.quote
                    c.log.append(.quote(look.quote, server: server, txn: txn))
                }
                result = try runLogged(db, &c) { tx, c in try self.priced(tx, &c, pre, look.quote) }
            default:
                result = try runLogged(db, &c) { tx, c in try self.unpriced(tx, &c) }
            }
        } catch let e as ClassicError {
            // Failed before the transaction (no price needed or quote unavailable): log only.
            let failed = c
            try db.transaction { tx in try failed.flush(tx, error: e) }
            result = .failure(e)
        }
        var fired = 0
        if let q = fresh {
            // Every fresh quote is also checked against that symbol's armed triggers (spec §5).
            fired = (try? checkTriggers(symbol: q.symbol, quote: q, db: db)) ?? 0
        }
        return Outcome(transactionNum: txn, timestamp: c.t, result: result, triggersFired: fired)
    }

    func transactionNumber(_ req: ClassicRequest, _ db: PGConnection) throws -> Int64 {
        if let n = req.transactionNum, n >= 1 { return n }
        guard let n = try db.query("SELECT nextval('classic_txn_seq')").int64(0, 0) else {
            throw LedgerInvariantError("nextval returned nothing")
        }
        return n
    }

    /// Runs `body` in a transaction. A `ClassicError` thrown by the body (always before it writes
    /// anything) still commits the log entries, plus the errorEvent; other errors roll back.
    func runLogged(_ db: PGConnection, _ c: inout CommandContext,
                   _ body: (PGConnection, inout CommandContext) throws -> JSON) throws -> Result<JSON, ClassicError> {
        let start = c
        let (result, final) = try db.transaction { tx -> (Result<JSON, ClassicError>, CommandContext) in
            var work = start   // a retried transaction starts over from the same state
            do {
                let json = try body(tx, &work)
                try work.flush(tx, error: nil)
                return (.success(json), work)
            } catch let e as ClassicError {
                try work.flush(tx, error: e)
                return (.failure(e), work)
            }
        }
        c = final
        return result
    }

    private func unpriced(_ tx: PGConnection, _ c: inout CommandContext) throws -> JSON {
        switch c.request.command {
        case .ADD: return try add(tx, &c)
        case .COMMIT_BUY: return try commitBuy(tx, &c)
        case .CANCEL_BUY: return try cancelBuy(tx, &c)
        case .COMMIT_SELL: return try commitSell(tx, &c)
        case .CANCEL_SELL: return try cancelSell(tx, &c)
        case .SET_BUY_AMOUNT: return try setBuyAmount(tx, &c)
        case .SET_BUY_TRIGGER: return try setBuyTrigger(tx, &c)
        case .CANCEL_SET_BUY: return try cancelSetBuy(tx, &c)
        case .SET_SELL_AMOUNT: return try setSellAmount(tx, &c)
        case .SET_SELL_TRIGGER: return try setSellTrigger(tx, &c)
        case .CANCEL_SET_SELL: return try cancelSetSell(tx, &c)
        case .DISPLAY_SUMMARY: return try displaySummary(tx, &c)
        case .QUOTE, .BUY, .SELL, .DUMPLOG: throw ClassicError(.INVALID_ARGUMENT, "internal routing error")
        }
    }

    private func priced(_ tx: PGConnection, _ c: inout CommandContext, _ pre: Precheck, _ q: Quote) throws -> JSON {
        switch c.request.command {
        case .QUOTE: return quoteResult(q, fresh: c.log.entries.contains { $0.kind == .quoteServer })
        case .BUY: return try buy(tx, &c, pre, q)
        case .SELL: return try sell(tx, &c, pre, q)
        default: throw ClassicError(.INVALID_ARGUMENT, "internal routing error")
        }
    }
}

/// Per-command state: the fields every entry of this command repeats, and its buffered entries.
struct CommandContext {
    let request: ClassicRequest
    let txn: Int64
    /// The command's timestamp (for a fresh quote: when the reply arrived).
    var t: Int64
    let server: String
    var log = AuditBuffer()
    /// Pending orders the lazy expiry released during this command (for error sentences).
    var expiredBuys = 0
    var expiredSells = 0

    init(request: ClassicRequest, txn: Int64, t: Int64, server: String) {
        self.request = request
        self.txn = txn
        self.t = t
        self.server = server
    }

    var username: String? { ClassicInput.userid(request.userid) }
    var symbol: String? { ClassicInput.symbol(request.stock) }
    var fundsCents: Int64? { ClassicInput.cents(request.amount) }

    func requireUser() throws(ClassicError) -> String {
        guard let u = username else { throw ClassicError(.INVALID_ARGUMENT, "userid is missing") }
        return u
    }

    /// The userCommand / errorEvent shape: every field the command carried.
    func commandEntry(_ kind: AuditKind, message: String? = nil) -> AuditEntry {
        AuditEntry(kind: kind, timestamp: t, server: server, transactionNum: txn, command: request.command,
                   username: username, stockSymbol: symbol, filename: request.filename, fundsCents: fundsCents, message: message)
    }

    mutating func account(_ action: String, _ cents: Int64, user: String) {
        log.append(.account(action, cents: cents, user: user, at: t, server: server, txn: txn))
    }

    /// userCommand first, then the command's own entries, then the errorEvent if it failed.
    func flush(_ db: PGConnection, error: ClassicError?) throws {
        var all = AuditBuffer()
        all.append(commandEntry(.userCommand))
        for e in log.entries { all.append(e) }
        if let error { all.append(commandEntry(.errorEvent, message: error.message)) }
        try all.flush(db)
    }
}

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
            FROM users u JOIN accounts a ON a.user_id = u.id WHERE u.user_name = $1 FOR UPDATE OF a
            """, [user, c.t])
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
        let r = try db.query("SELECT a.user_id, a.cash_cents FROM users u JOIN accounts a ON a.user_id = u.id WHERE u.user_name = $1", [user])
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

    /// Adds `shares` free shares (creating the holding).
    func addShares(_ tx: PGConnection, userId: Int64, stockId: Int64, shares: Int64) throws {
        try tx.query("""
            INSERT INTO holdings (user_id, stock_id, quantity) VALUES ($1, $2, $3)
            ON CONFLICT (user_id, stock_id) DO UPDATE SET quantity = holdings.quantity + EXCLUDED.quantity
            """, [userId, stockId, shares])
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

/// A guarded update found the ledger in a state the locks should have prevented: roll back.
struct LedgerInvariantError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
