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
        var numbered = resume?.txn
        for _ in 0..<Self.decisionAttempts {
            do {
                return try run(req, db: db, redis: redis, parkOnMiss: parkOnMiss, resume: resume, numbered: numbered)
            } catch let again as DecideAgain {
                // What the command read outside the lock changed before it held the lock (or its
                // quote aged out meanwhile): nothing was decided, so it starts over with its number.
                resume = nil
                numbered = again.txn
            }
        }
        throw HTTPError(503, "the account kept changing while this command was decided; nothing was done, try again")
    }

    /// How often a command starts over when its account changed between its unlocked reads and
    /// its lock (a trigger firing or an expiry in between: rare, and rarer twice).
    static let decisionAttempts = 4

    private func run(
        _ req: ClassicRequest, db: PGConnection, redis: RedisConnection?, parkOnMiss: Bool, resume: QuoteResume?,
        numbered: Int64?
    ) throws -> Outcome {
        // A command run again (a parked quote, a decision taken again) keeps the number it had.
        let txn = try numbered ?? transactionNumber(req, db)
        guard req.command != .DUMPLOG else {
            return Outcome(
                transactionNum: txn, timestamp: clock.nowMillis(),
                result: .failure(ClassicError(.INVALID_ARGUMENT, "DUMPLOG goes through beginDump/writeDump")),
                triggersFired: 0)
        }
        var c = CommandContext(request: req, txn: txn, t: clock.nowMillis(), server: server)
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
                    throw QuoteMiss(symbol: pre.symbol, user: pre.username, txn: c.txn)
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
    /// or the next number of the server's sequence, which runs above every client number. A
    /// client's number is its label, not a key: two workloads replayed on one ledger both start
    /// at [1], and a user may send a number again, so the log is read by (number, user).
    func transactionNumber(_ req: ClassicRequest, _ db: PGConnection) throws -> Int64 {
        if let n = req.transactionNum, n >= 1 { return n }
        guard let n = try db.query("SELECT nextval('classic_txn_seq')").int64(0, 0) else {
            throw LedgerInvariantError("nextval returned nothing")
        }
        return n
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
        let work: CommitGroup.Work = { tx, log in
            var work = start // a retried transaction starts over from the same state
            work.t = max(work.t, clock.nowMillis())
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
                userKey: c.userKey, user: user, readsLog: c.request.command == .DISPLAY_SUMMARY, work)
        } else {
            try CommitGroup.runAlone(db, user: user, work)
        }
        guard let (outcome, final) = box.get() else { throw LedgerInvariantError("command ran without an outcome") }
        c = final
        switch outcome {
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
