import Dispatch
import Foundation
import Ledger
import ServiceCore
import Synchronization
import XCTest

@testable import ClassicCore

/// Every decision on an account — a command, a trigger firing, an expiry — is taken and stamped
/// while that account is locked, so the log orders them as the lock did (spec §10: an entry's
/// timestamp is the moment of its decision). Each test holds the account lock in another session,
/// lets the manual clock move while the decision waits, then releases it.
final class DecisionUnderLockTests: ClassicTestCase {
    func testACommandIsStampedWhenItHoldsTheAccountLock() throws {
        let u = try newUser(cash: 10_000)
        let queued = clock.nowMillis()
        let holder = try lockAccount(of: u)
        let outcome = runInBackground { engine, db, redis in
            try engine.execute(ClassicRequest(.ADD, userid: u, amount: "5.00"), db: db, redis: redis)
        }
        try waitForLockWaiter()
        clock.advance(5_000)
        try holder.execute("COMMIT")
        let o = try XCTUnwrap(outcome.wait())
        XCTAssertNotNil(o.data, o.error?.message ?? "")
        XCTAssertEqual(o.timestamp, queued + 5_000, "stamped once the lock was held, not when queued")
        let entry = try XCTUnwrap(try entries(o.transactionNum, u).first { $0.kind == .userCommand })
        XCTAssertEqual(entry.timestamp, queued + 5_000)
    }

    func testAFiringIsStampedWhenItHoldsTheAccountLock() throws {
        let u = try newUser(cash: 100_000)
        let sym = try newSymbol(price: 6000)
        try ok(.QUOTE, u, stock: sym) // 60.00 in the shared cache: not due
        try ok(.SET_BUY_AMOUNT, u, stock: sym, amount: "100.00")
        let armed = txn()
        try ok(.SET_BUY_TRIGGER, u, stock: sym, amount: "50.00", txn: armed)
        let at10 = Quote(
            symbol: sym, user: u, priceCents: 1000, quoteServerTime: 0, cryptokey: "k", obtainedAt: clock.nowMillis())
        let pollStarted = clock.nowMillis()
        let holder = try lockAccount(of: u)
        let fired = runInBackground { engine, db, _ in try engine.checkTriggers(symbol: sym, quote: at10, db: db) }
        try waitForLockWaiter()
        clock.advance(5_000)
        try holder.execute("COMMIT")
        XCTAssertEqual(try fired.wait(), 1)
        let firing = try XCTUnwrap(try entries(armed, u).first { $0.kind == .systemEvent })
        XCTAssertEqual(firing.timestamp, pollStarted + 5_000, "stamped under the lock, not at the poll's start")
    }

    /// The SELL's "owns some" precheck reads without a lock. Shares granted by a transaction that
    /// held the lock during that read are there once the SELL holds it: it runs again, gets its
    /// quote and succeeds, instead of being logged NOT_OWNED after the grant.
    func testASellRefusedOnAStaleReadRunsAgainOnceItHoldsTheLock() throws {
        let u = try newUser(cash: 10_000)
        let sym = try newSymbol(price: 1000)
        let other = try newUser(cash: 100_000)
        try ok(.BUY, other, stock: sym, amount: "10.00") // the stock exists
        try ok(.COMMIT_BUY, other)
        let holder = try lockAccount(of: u)
        let uid = try XCTUnwrap(try holder.query("SELECT id FROM users WHERE user_name = $1", [u]).int64(0, 0))
        let sid = try XCTUnwrap(try LedgerOps.stockId(holder, name: sym, create: false))
        XCTAssertTrue(try LedgerTx(holder).grantShares(uid, stockId: sid, shares: 5))
        let outcome = runInBackground { engine, db, redis in
            try engine.execute(ClassicRequest(.SELL, userid: u, stock: sym, amount: "30.00"), db: db, redis: redis)
        }
        try waitForLockWaiter()
        try holder.execute("COMMIT")
        let o = try XCTUnwrap(outcome.wait())
        XCTAssertNil(o.error, o.error?.message ?? "")
        XCTAssertEqual(o.data?["shares"]?.int64Value, 3)
        let logged = try entries(o.transactionNum, u)
        XCTAssertEqual(logged.filter { $0.kind == .userCommand }.count, 1, "one command, logged once")
        XCTAssertEqual(logged.filter { $0.kind == .errorEvent }.count, 0)
        XCTAssertEqual(try holding(u, sym).reserved, 3)
    }

    /// Under the lock the SELL checks ownership again (free or reserved), for both paths: a user
    /// with no holding of an existing stock is NOT_OWNED there, not INSUFFICIENT_SHARES.
    func testSellUnderTheLockChecksOwnershipAgain() throws {
        let sym = try newSymbol(price: 1000)
        let other = try newUser(cash: 100_000)
        try ok(.BUY, other, stock: sym, amount: "10.00")
        try ok(.COMMIT_BUY, other)
        let u = try newUser(cash: 10_000)
        let uid = try XCTUnwrap(try db.query("SELECT id FROM users WHERE user_name = $1", [u]).int64(0, 0))
        let quote = Quote(
            symbol: sym, user: u, priceCents: 1000, quoteServerTime: 0, cryptokey: "k", obtainedAt: clock.nowMillis())
        for folded in [true, false] {
            let e = ClassicEngine(clock: clock, quotes: engine.quotes, server: "test", folded: folded)
            let pre = ClassicEngine.Precheck(username: u, userId: uid, symbol: sym, amount: 3000)
            var c = CommandContext(
                request: ClassicRequest(.SELL, userid: u, stock: sym, amount: "30.00"), txn: txn(),
                t: clock.nowMillis(), server: "test")
            try db.execute("BEGIN")
            defer { try? db.execute("ROLLBACK") }
            XCTAssertThrowsError(try e.sell(db, &c, pre, quote), "folded \(folded)") { error in
                XCTAssertEqual((error as? ClassicError)?.code, .NOT_OWNED, "folded \(folded): \(error)")
            }
        }
    }

    // MARK: -

    /// Another session holding `user`'s account lock in an open transaction.
    private func lockAccount(of user: String) throws -> PGConnection {
        let holder = try TestEnv.postgres()
        try holder.execute("BEGIN")
        let uid = try XCTUnwrap(try holder.query("SELECT id FROM users WHERE user_name = $1", [user]).int64(0, 0))
        XCTAssertTrue(try LedgerTx(holder).lockAccount(uid))
        return holder
    }

    /// Waits until some session waits for a row lock on `accounts` (the decision under test).
    private func waitForLockWaiter() throws {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            let waiting =
                try db.query(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%accounts%FOR UPDATE%'"
                ).int(0, 0) ?? 0
            if waiting > 0 { return }
            usleep(10_000)
        }
        XCTFail("nothing waited for the account lock")
    }

    /// Runs `body` on its own thread with its own connections; `wait()` gives its result.
    private func runInBackground<T: Sendable>(
        _ body: @escaping @Sendable (ClassicEngine, PGConnection, RedisConnection) throws -> T
    ) -> Background<T> {
        let bg = Background<T>()
        let engine: ClassicEngine = self.engine
        Thread.detachNewThread {
            let r = Result { try body(engine, try TestEnv.postgres(), try TestEnv.redis()) }
            bg.finish(r)
        }
        return bg
    }
}

private final class Background<T: Sendable>: Sendable {
    private let result = Mutex<Result<T, any Error>?>(nil)
    private let done = DispatchSemaphore(value: 0)

    func finish(_ r: Result<T, any Error>) {
        result.withLock { $0 = r }
        done.signal()
    }

    func wait() throws -> T? {
        guard done.wait(timeout: .now() + 20) == .success else {
            XCTFail("the decision never finished")
            return nil
        }
        return try result.withLock { $0 }?.get()
    }
}
