import Foundation
import Ledger
import ServiceCore
import Synchronization
import XCTest

@testable import ClassicCore

/// A clock the test moves by hand.
final class ManualClock: WallClock, @unchecked Sendable {
    private let value: Mutex<Int64>
    init(_ start: Int64) { value = Mutex(start) }
    func nowMillis() -> Int64 { value.withLock { $0 } }
    func set(_ ms: Int64) { value.withLock { $0 = ms } }
    func advance(_ ms: Int64) { value.withLock { $0 += ms } }
}

/// A quote source with prices set by the test; counts real hits per symbol.
final class FakeQuoteSource: QuoteSource, @unchecked Sendable {
    private let state = Mutex<(prices: [String: Int64], fetches: [String: Int], failing: Bool)>(([:], [:], false))
    func setPrice(_ symbol: String, _ cents: Int64) { state.withLock { $0.prices[symbol] = cents } }
    func setFailing(_ f: Bool) { state.withLock { $0.failing = f } }
    func fetches(_ symbol: String) -> Int { state.withLock { $0.fetches[symbol] ?? 0 } }

    func fetch(symbol: String, user: String) throws -> QuoteReply {
        try state.withLock { s in
            if s.failing { throw QuoteSourceError(message: "fake quote server is down") }
            guard let p = s.prices[symbol] else { throw QuoteSourceError(message: "no price for \(symbol)") }
            s.fetches[symbol, default: 0] += 1
            return QuoteReply(
                priceCents: p, symbol: symbol, user: user, quoteServerTime: Clock.wallMillis() - 250,
                cryptokey: "fakeKey\(symbol)\(s.fetches[symbol] ?? 0)/+==")
        }
    }
}

enum TestEnv {
    static func value(_ key: String) -> String? {
        let v = ProcessInfo.processInfo.environment[key]
        return (v?.isEmpty ?? true) ? nil : v
    }

    static let migrated = Mutex<Bool>(false)

    /// Real PostgreSQL with the ledger + classic migrations applied (once per process).
    static func postgres() throws -> PGConnection {
        guard let info = value("DT_TEST_PG") else {
            throw XCTSkipFailure("DT_TEST_PG is not set: run through scripts/test or export it (libpq conninfo)")
        }
        let db = try PGConnection(info)
        try migrated.withLock { done in
            if !done {
                try Migrator.apply(ClassicSchema.allMigrations, on: db)
                done = true
            }
        }
        return db
    }

    /// One group commit shared by every test engine (its lanes live as long as the process).
    static let committer: CommitGroup? = value("DT_TEST_PG").map { CommitGroup(connInfo: $0, lanes: 2, maxBatch: 64) }

    static func redisEndpoint() throws -> Endpoint {
        guard let text = value("DT_TEST_REDIS"), let e = Endpoint(text) else {
            throw XCTSkipFailure("DT_TEST_REDIS is not set: run through scripts/test or export it (host:port)")
        }
        return e
    }

    /// Signs requests straight to a service port with the stack's key (DT_TEST_INTERNAL_KEY).
    static let signedClient = HTTPClient(signer: GatewayProof.fromEnvironment("DT_TEST_INTERNAL_KEY"))

    static func redis() throws -> RedisConnection {
        try RedisConnection(try redisEndpoint(), password: value("DT_TEST_REDIS_PASSWORD"))
    }
}

/// A missing test environment is a failure, never a silent skip.
struct XCTSkipFailure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// Base class: real database and Redis, a manual clock and fake quote prices, fresh users and
/// symbols per test, and the ledger's conservation check after every test.
class ClassicTestCase: XCTestCase {
    var db: PGConnection!
    var redis: RedisConnection!
    var clock: ManualClock!
    var source: FakeQuoteSource!
    var engine: ClassicEngine!
    var start: Int64 = 0

    override func setUpWithError() throws {
        db = try TestEnv.postgres()
        redis = try TestEnv.redis()
        // Two minutes ahead of real time. A running stack (scripts/test) shares this database and
        // Redis: its sweepers (real clock) then never expire our orders mid-test, and its
        // trigger-worker (real clock) sees every quote we cache as fresh, so it never pays a real
        // hit for our symbols and only ever sees the prices the test chose.
        start = Clock.wallMillis() + 120_000
        clock = ManualClock(start)
        source = FakeQuoteSource()
        // Through the group commit, as the services run them.
        engine = ClassicEngine(
            clock: clock, quotes: QuoteCache(source: source, clock: clock), server: "test",
            committer: TestEnv.committer)
    }

    override func tearDownWithError() throws {
        if let db {
            XCTAssertEqual(try LedgerOps.conservationViolations(db), [], "ledger conservation")
        }
    }

    // MARK: fixtures

    /// A new 10-character user name (the workload's shape).
    func newUserName() -> String {
        let chars = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        return "t" + String((0..<9).map { _ in chars[Int.random(in: 0..<chars.count)] })
    }

    /// A user with an account holding `cash` cents (made by a real ADD).
    func newUser(cash: Int64) throws -> String {
        let u = newUserName()
        try ok(.ADD, u, amount: Money.format(cash))
        return u
    }

    /// A 3-letter symbol no other test of this run uses (a Redis counter), with a fake price.
    /// Its cache entry is stamped with real time: fresh for a stack's trigger-worker, already
    /// stale for this test's clock (so the test's first quote is a real hit).
    func newSymbol(price: Int64) throws -> String {
        let n = try redis.command(["INCR", "classic:test:symseq"]).int ?? Int64.random(in: 0..<17576)
        var v = Int(n % 17576)
        var s = ""
        for _ in 0..<3 {
            s = String(UnicodeScalar(UInt8(65 + v % 26))) + s
            v /= 26
        }
        source.setPrice(s, price)
        try engine.quotes.store(
            Quote(
                symbol: s, user: "seed", priceCents: price, quoteServerTime: 0, cryptokey: "seed",
                obtainedAt: Clock.wallMillis()), redis: redis)
        return s
    }

    /// Puts `cents` in the shared cache as a quote obtained now (no hit, nothing logged): parks
    /// a symbol at a price where the test's armed triggers are not due.
    func park(_ symbol: String, _ cents: Int64) throws {
        try engine.quotes.store(
            Quote(
                symbol: symbol, user: "seed", priceCents: cents, quoteServerTime: 0, cryptokey: "seed",
                obtainedAt: clock.nowMillis()), redis: redis)
    }

    // MARK: running commands

    @discardableResult
    func run(
        _ cmd: ClassicCommandName, _ user: String?, stock: String? = nil, amount: String? = nil,
        txn: Int64? = nil, filename: String? = nil
    ) throws -> ClassicEngine.Outcome {
        try engine.execute(
            ClassicRequest(cmd, userid: user, stock: stock, amount: amount, filename: filename, transactionNum: txn),
            db: db, redis: redis)
    }

    /// Runs a command that must succeed; returns its data.
    @discardableResult
    func ok(
        _ cmd: ClassicCommandName, _ user: String?, stock: String? = nil, amount: String? = nil, txn: Int64? = nil,
        file: StaticString = #filePath, line: UInt = #line
    ) throws -> JSON {
        let o = try run(cmd, user, stock: stock, amount: amount, txn: txn)
        guard let data = o.data else {
            XCTFail("\(cmd) failed: \(o.error?.message ?? "?")", file: file, line: line)
            return .null
        }
        return data
    }

    /// Runs a command that must fail with `code`; checks its errorEvent and returns the error.
    @discardableResult
    func fails(
        _ cmd: ClassicCommandName, _ user: String?, stock: String? = nil, amount: String? = nil, txn: Int64? = nil,
        _ code: ClassicErrorCode, file: StaticString = #filePath, line: UInt = #line
    ) throws -> ClassicError? {
        let o = try run(cmd, user, stock: stock, amount: amount, txn: txn)
        guard let e = o.error else {
            XCTFail(
                "\(cmd) should fail with \(code) but succeeded: \(o.data?.serialized() ?? "")", file: file, line: line)
            return nil
        }
        XCTAssertEqual(e.code, code, "\(cmd): \(e.message)", file: file, line: line)
        XCTAssertTrue(e.message.hasPrefix("\(code.rawValue): "), e.message, file: file, line: line)
        // Sequence numbers may repeat a workload's [N] from another user: look up by user too.
        let entries = try AuditReader.byTransaction(db, o.transactionNum, username: ClassicInput.userid(user))
        let errors = entries.filter { $0.kind == .errorEvent && $0.command == cmd }
        XCTAssertEqual(errors.count, 1, "one errorEvent for the failed \(cmd)", file: file, line: line)
        XCTAssertEqual(errors.first?.message, e.message, file: file, line: line)
        XCTAssertEqual(entries.filter { $0.kind == .userCommand && $0.command == cmd }.count, 1, file: file, line: line)
        return e
    }

    // MARK: reading state

    struct Account: Equatable {
        var cash: Int64
        var reserved: Int64
    }

    func account(_ user: String) throws -> Account? {
        let r = try db.query(
            "SELECT a.cash_cents, a.reserved_cents FROM accounts a JOIN users u ON u.id = a.user_id WHERE u.user_name = $1",
            [user])
        guard let c = r.int64(0, 0), let res = r.int64(0, 1) else { return nil }
        return Account(cash: c, reserved: res)
    }

    struct Holding: Equatable {
        var free: Int64
        var reserved: Int64
    }

    func holding(_ user: String, _ symbol: String) throws -> Holding {
        let r = try db.query(
            """
            SELECT h.quantity, h.reserved FROM holdings h JOIN users u ON u.id = h.user_id JOIN stocks s ON s.id = h.stock_id
            WHERE u.user_name = $1 AND s.name = $2
            """, [user, symbol])
        return Holding(free: r.int64(0, 0) ?? 0, reserved: r.int64(0, 1) ?? 0)
    }

    /// Money and shares of a user, to show a failed command changed nothing.
    struct Snapshot: Equatable {
        var account: Account?
        var holdings: [String]
        var pending: [String]
        var triggers: [String]
    }

    func snapshot(_ user: String) throws -> Snapshot {
        func rows(_ sql: String) throws -> [String] {
            let r = try db.query(sql, [user])
            return (0..<r.count).map { i in (0..<r.columns).map { r.string(i, $0) ?? "∅" }.joined(separator: "|") }
        }
        return Snapshot(
            account: try account(user),
            holdings: try rows(
                "SELECT s.name, h.quantity, h.reserved FROM holdings h JOIN users u ON u.id = h.user_id JOIN stocks s ON s.id = h.stock_id WHERE u.user_name = $1 ORDER BY s.name"
            ),
            pending: try rows(
                "SELECT id, side, symbol, shares, held_cents, expires_ms FROM classic_pending WHERE username = $1 ORDER BY id"
            ),
            triggers: try rows(
                "SELECT side, symbol, amount_cents, reserved_cents, reserved_shares, trigger_cents, armed_txn FROM classic_triggers WHERE username = $1 ORDER BY symbol, side"
            ))
    }

    /// The user's log entries in order (all kinds).
    func log(_ user: String) throws -> [AuditEntry] {
        try AuditReader.page(db, username: user, afterId: 0, beforeId: Int64.max, limit: 10_000).map(\.entry)
    }

    func entries(_ txn: Int64, _ user: String) throws -> [AuditEntry] {
        try AuditReader.byTransaction(db, txn, username: user)
    }

    /// A fresh transaction number unlikely to collide with other tests' (for log lookups).
    func txn() -> Int64 { Int64.random(in: 1_000_000_000...9_000_000_000_000) }
}
