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

    /// Batches the commands' transactions (group commit); nil = each command commits alone on
    /// the caller's connection.
    public let committer: CommitGroup?

    /// BUY, SELL and their COMMIT/CANCEL run as one server-side function call each
    /// (`ClassicFunctions.swift`); false = their statement-by-statement Swift path (A/B, tests).
    public let folded: Bool

    public init(
        clock: any WallClock, quotes: QuoteCache, server: String, committer: CommitGroup? = nil, folded: Bool = true
    ) {
        self.clock = clock
        self.quotes = quotes
        self.server = server
        self.committer = committer
        self.folded = folded
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
    /// `parkOnMiss`: a QUOTE/BUY/SELL whose quote is not in the cache throws `QuoteMiss` (having
    /// written and logged nothing) instead of fetching on this thread; the caller parks it on
    /// `QuoteFlights` and runs it again with `resume` once the price (or its failure) is there.
    public func execute(
        _ req: ClassicRequest, db: PGConnection, redis: RedisConnection?, parkOnMiss: Bool = false,
        resume: QuoteResume? = nil
    ) throws -> Outcome {
        var resume = resume
        var numbered = resume.map { (txn: $0.txn, claim: $0.claim) }
        for _ in 0..<Self.decisionAttempts {
            do {
                return try run(req, db: db, redis: redis, parkOnMiss: parkOnMiss, resume: resume, numbered: numbered)
            } catch let r as TxnRefused {
                throw r.error
            } catch let again as DecideAgain {
                // What the command read outside the lock changed before it held the lock (or its
                // quote aged out meanwhile): nothing was decided, so it starts over with its number.
                resume = nil
                numbered = (again.txn, false)
            }
        }
        throw HTTPError(503, "the account kept changing while this command was decided; nothing was done, try again")
    }

    /// How often a command starts over when its account changed between its unlocked reads and
    /// its lock (a trigger firing or an expiry in between: rare, and rarer twice).
    static let decisionAttempts = 4

    private func run(
        _ req: ClassicRequest, db: PGConnection, redis: RedisConnection?, parkOnMiss: Bool, resume: QuoteResume?,
        numbered: (txn: Int64, claim: Bool)?
    ) throws -> Outcome {
        // A command that may pay for a quote checks its number first, in its precheck's read; the
        // others just claim it inside their transaction, which refuses another user's number all
        // the same. A command run again keeps the number it had.
        let (txn, claim) = try numbered ?? transactionNumber(req, db, claimNow: false, check: false)
        guard req.command != .DUMPLOG else {
            return Outcome(
                transactionNum: txn, timestamp: clock.nowMillis(),
                result: .failure(ClassicError(.INVALID_ARGUMENT, "DUMPLOG goes through beginDump/writeDump")),
                triggersFired: 0)
        }
        var c = CommandContext(request: req, txn: txn, t: clock.nowMillis(), server: server)
        c.claimTxn = claim
        var fresh: Quote?
        let result: Result<JSON, ClassicError>
        switch req.command {
        case .QUOTE, .BUY, .SELL:
            result = try runPriced(&c, db: db, redis: redis, parkOnMiss: parkOnMiss, resume: resume, fresh: &fresh)
        default:
            result = try runLogged(db, &c) { tx, c in try self.unpriced(tx, &c) }
        }
        var fired = 0
        if let q = fresh {
            // Every fresh quote is also checked against that symbol's armed triggers (spec §5).
            fired = (try? checkTriggers(symbol: q.symbol, quote: q, db: db)) ?? 0
        }
        return Outcome(transactionNum: txn, timestamp: c.t, result: result, triggersFired: fired)
    }

    /// QUOTE/BUY/SELL (§10.2): the checks that need no price on a read outside the lock, then the
    /// quote, then the rest under the lock — where the price-free checks are made again, since a
    /// trigger firing or an expiry may have changed the account after that read.
    private func runPriced(
        _ c: inout CommandContext, db: PGConnection, redis: RedisConnection?, parkOnMiss: Bool, resume: QuoteResume?,
        fresh: inout Quote?
    ) throws -> Result<JSON, ClassicError> {
        let pre: Precheck
        do { pre = try precheck(&c, db) } catch is ClassicError {
            return try runLogged(db, &c) { tx, c in
                _ = try self.precheck(&c, tx) // still refused under the lock: that error, stamped there
                throw DecideAgain(txn: c.txn) // passes now: the command gets its quote after all
            }
        }
        let look: QuoteCache.Lookup
        do {
            if let resume {
                look = try resume.lookup.get()
            } else if parkOnMiss {
                guard let hit = quotes.cachedLookup(symbol: pre.symbol, redis: redis) else {
                    throw QuoteMiss(symbol: pre.symbol, user: pre.username, txn: c.txn, claim: c.claimTxn)
                }
                look = hit
            } else {
                look = try quotes.get(symbol: pre.symbol, user: pre.username, redis: redis)
            }
        } catch let e as ClassicError {
            return try runLogged(db, &c) { tx, c in
                _ = try self.precheck(&c, tx) // a price-free refusal under the lock comes first (§10.2)
                throw e
            }
        }
        c.t = look.at
        if look.fresh {
            fresh = look.quote
            c.log.append(.quote(look.quote, server: server, txn: c.txn))
        }
        return try runLogged(db, &c, quoteValidUntil: quotes.validUntil(look.quote)) { tx, c in
            try self.priced(tx, &c, pre, look.quote)
        }
    }

    /// The command's transactionNum: the client's (the workload's `[N]`, ≤ `AuditFields.maxTransactionNum`),
    /// which belongs to the first user who sends it — another user's command under the same number
    /// is refused, so whole-system dumps never mix two users' commands under one number — or the
    /// next number of the server's sequence (which runs above every client number).
    /// `claimNow` false: only checks (read-only; none when `check` is false) and says whether the
    /// number still has to be claimed, which the command's own transaction then does (no commit
    /// of its own).
    func transactionNumber(
        _ req: ClassicRequest, _ db: PGConnection, claimNow: Bool = true,
        check: Bool = true
    ) throws -> (txn: Int64, claim: Bool) {
        if let n = req.transactionNum, n >= 1 {
            guard let caller = req.callerId else { return (n, false) }
            if claimNow {
                try claimTransactionNumber(db, n, caller: caller)
                return (n, false)
            }
            guard check else { return (n, true) }
            let owner = try db.query("SELECT user_id FROM classic_txn_owners WHERE txn = $1", [n]).int64(0, 0)
            guard owner == nil || owner == caller else { throw Self.txnTaken(n) }
            return (n, owner == nil)
        }
        guard let n = try db.query("SELECT nextval('classic_txn_seq')").int64(0, 0) else {
            throw LedgerInvariantError("nextval returned nothing")
        }
        return (n, false)
    }

    static func txnTaken(_ n: Int64) -> ClassicError {
        ClassicError(.INVALID_ARGUMENT, "transactionNum \(n) is already used by another user")
    }

    /// Claims a client-chosen number for `caller`, or throws `txnTaken` (nothing written).
    func claimTransactionNumber(_ db: PGConnection, _ n: Int64, caller: Int64) throws {
        let owner = try db.query(
            """
            WITH claimed AS (
                INSERT INTO classic_txn_owners (txn, user_id) VALUES ($1, $2) ON CONFLICT (txn) DO NOTHING RETURNING user_id)
            SELECT user_id FROM claimed UNION ALL SELECT user_id FROM classic_txn_owners WHERE txn = $1 LIMIT 1
            """, [n, caller]
        ).int64(0, 0)
        guard owner == caller else { throw Self.txnTaken(n) }
    }

    /// Runs `body` in the command's transaction — a batch of the `committer`, or alone on `db`.
    /// A `ClassicError` thrown by the body (always before it writes anything: ledger moves check
    /// first and change nothing when refused) still commits the log entries, plus the errorEvent;
    /// other errors roll back. Returns once the transaction has committed.
    /// The command is stamped when it runs, with its account already locked (the batch locks it
    /// first): the moment of its decision (§10), never its queueing or commit, so the log orders it
    /// against a trigger firing or an expiry of the same account exactly as the lock did.
    /// `quoteValidUntil`: the command's quote serves only decisions stamped before it (§10.1);
    /// later, or when the body throws `DecideAgain`, nothing is decided and `DecideAgain` is thrown.
    func runLogged(
        _ db: PGConnection, _ c: inout CommandContext, quoteValidUntil: Int64? = nil,
        _ body: @escaping @Sendable (PGConnection, inout CommandContext) throws -> JSON
    ) throws -> Result<JSON, ClassicError> {
        let start = c
        let box = OutcomeBox()
        let clock = self.clock
        // The client's number, if still unclaimed, is claimed in the command's transaction before
        // it decides (by the batch, for all of its commands at once).
        let claim = c.claimTxn ? c.request.callerId.map { TxnClaim(txn: c.txn, caller: $0) } : nil
        let work: CommitGroup.Work = { tx, log, claimRefused in
            var work = start // a retried transaction starts over from the same state
            work.t = max(work.t, clock.nowMillis())
            if claimRefused {
                // Another user took the number since the check: refused, nothing logged.
                box.set(.refused(Self.txnTaken(work.txn)), work)
                return
            }
            do {
                if let until = quoteValidUntil, work.t >= until { throw DecideAgain(txn: work.txn) }
                let json = try body(tx, &work)
                work.collect(into: &log, error: nil)
                try work.request.key?.record(tx, ClassicHTTP.success(json))
                box.set(.done(.success(json)), work)
            } catch let e as ClassicError {
                work.collect(into: &log, error: e)
                try work.request.key?.record(tx, ClassicHTTP.errorResponse(e))
                box.set(.done(.failure(e)), work)
            } catch is DecideAgain {
                // Nothing decided; only a quote this command paid for is logged (it was obtained).
                for e in work.log.entries where e.kind == .quoteServer { log.append(e) }
                box.set(.again, work)
            }
        }
        let user = c.username
        if let committer {
            try committer.run(
                userKey: c.userKey, user: user, readsLog: c.request.command == .DISPLAY_SUMMARY, claim: claim, work)
        } else {
            try CommitGroup.runAlone(db, claim: claim, user: user, work)
        }
        guard let (outcome, final) = box.get() else { throw LedgerInvariantError("command ran without an outcome") }
        c = final
        switch outcome {
        case .refused(let e): throw TxnRefused(error: e)
        case .again: throw DecideAgain(txn: final.txn)
        case .done(let result): return result
        }
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
        case .QUOTE: return quoteResult(q, fresh: c.log.entries.contains { $0.kind == .quoteServer }, txn: c.txn)
        case .BUY: return try buy(tx, &c, pre, q)
        case .SELL: return try sell(tx, &c, pre, q)
        default: throw ClassicError(.INVALID_ARGUMENT, "internal routing error")
        }
    }
}
