import Foundation
import Ledger
import ServiceCore
import Synchronization
import XCTest

@testable import ClassicCore

/// Real threads, each with its own PostgreSQL and Redis connection, racing on one account.
final class ConcurrencyTests: ClassicTestCase {
    /// Runs `work(i)` on `count` threads released together; returns the results in index order.
    func race<T: Sendable>(_ count: Int, _ work: @escaping @Sendable (Int, PGConnection, RedisConnection) throws -> T)
        throws -> [T]
    {
        let results = Mutex<[Int: Result<T, Error>]>([:])
        var conns: [(PGConnection, RedisConnection)] = []
        for _ in 0..<count { conns.append((try TestEnv.postgres(), try TestEnv.redis())) }
        let ready = DispatchSemaphore(value: 0)
        let go = DispatchSemaphore(value: 0)
        let group = DispatchGroup()
        for i in 0..<count {
            nonisolated(unsafe) let (pg, rd) = conns[i]
            group.enter()
            let t = Thread {
                ready.signal()
                go.wait()
                let r = Result { try work(i, pg, rd) }
                results.withLock { $0[i] = r }
                group.leave()
            }
            t.start()
        }
        for _ in 0..<count { ready.wait() }
        for _ in 0..<count { go.signal() }
        group.wait()
        return try (0..<count).map { i in try results.withLock { $0[i]! }.get() }
    }

    func testConcurrentBuysNeverOverdraw() throws {
        let u = try newUser(cash: 100_000)
        let sym = try newSymbol(price: 1000)
        try ok(.QUOTE, u, stock: sym) // every racer then uses the cached 10.00
        let engine = self.engine!
        let outcomes = try race(12) { _, pg, rd in
            try engine.execute(ClassicRequest(.BUY, userid: u, stock: sym, amount: "150.00"), db: pg, redis: rd)
        }
        let won = outcomes.filter { $0.data != nil }.count
        XCTAssertEqual(won, 6, "1000.00 covers six holds of 150.00")
        XCTAssertTrue(outcomes.allSatisfy { $0.data != nil || $0.error?.code == .INSUFFICIENT_FUNDS })
        XCTAssertEqual(try account(u), Account(cash: 10_000, reserved: 90_000))
        XCTAssertEqual(try snapshot(u).pending.count, 6)
    }

    func testCommitsCancelsAndTriggerFiringRaceWithoutDoubleSpend() throws {
        let u = try newUser(cash: 100_000)
        let sym = try newSymbol(price: 1000)
        let trig = try newSymbol(price: 2500)
        try ok(.QUOTE, u, stock: sym)
        for _ in 0..<6 { try ok(.BUY, u, stock: sym, amount: "150.00") } // 6 × (15 × 10.00)
        try ok(.SET_BUY_AMOUNT, u, stock: trig, amount: "100.00") // all the remaining cash
        try ok(.SET_BUY_TRIGGER, u, stock: trig, amount: "25.00")
        XCTAssertEqual(try account(u), Account(cash: 0, reserved: 100_000))
        try ok(.QUOTE, u, stock: trig) // 25.00 in the cache: the trigger may fire (4 shares)
        let quote = try XCTUnwrap(engine.quotes.peek(symbol: trig, redis: redis))
        let engine = self.engine!

        enum Result: Sendable {
            case committed, cancelled, noPending
            case fired(Int)
        }
        let results = try race(16) { i, pg, rd -> Result in
            switch i % 4 {
            case 0:
                return .fired(try engine.checkTriggers(symbol: trig, quote: quote, db: pg))
            case 1:
                let o = try engine.execute(ClassicRequest(.CANCEL_BUY, userid: u), db: pg, redis: rd)
                return o.data != nil ? .cancelled : .noPending
            default:
                let o = try engine.execute(ClassicRequest(.COMMIT_BUY, userid: u), db: pg, redis: rd)
                if let e = o.error { XCTAssertEqual(e.code, .NO_PENDING_BUY) }
                return o.data != nil ? .committed : .noPending
            }
        }
        var committed = 0
        var cancelled = 0
        var fired = 0
        for r in results {
            switch r {
            case .committed: committed += 1
            case .cancelled: cancelled += 1
            case .fired(let n): fired += n
            case .noPending: break
            }
        }
        XCTAssertEqual(committed + cancelled, 6, "each pending BUY is used exactly once")
        XCTAssertLessThanOrEqual(fired, 1)
        XCTAssertEqual(try snapshot(u).triggers, [], "the trigger fired once (here or by a stack worker)")
        XCTAssertEqual(try holding(u, trig), Holding(free: 4, reserved: 0))
        XCTAssertEqual(try holding(u, sym), Holding(free: Int64(committed) * 15, reserved: 0))
        XCTAssertEqual(try account(u), Account(cash: Int64(cancelled) * 15_000, reserved: 0))
        XCTAssertEqual(try snapshot(u).pending, [])
    }

    func testSweeperAndCommitRaceAtExpiry() throws {
        let u = try newUser(cash: 100_000)
        let sym = try newSymbol(price: 1000)
        try ok(.QUOTE, u, stock: sym)
        for _ in 0..<5 { try ok(.BUY, u, stock: sym, amount: "100.00") }
        clock.advance(60_000)
        let engine = self.engine!
        // (The sweeper sweeps every due order in the database, so only this user's state is checked.)
        _ = try race(8) { i, pg, rd -> Bool in
            if i % 2 == 0 { return try engine.sweepExpired(db: pg) >= 0 }
            let o = try engine.execute(ClassicRequest(.COMMIT_BUY, userid: u), db: pg, redis: rd)
            XCTAssertEqual(o.error?.code, .NO_PENDING_BUY)
            return o.data == nil
        }
        XCTAssertEqual(try account(u), Account(cash: 100_000, reserved: 0))
        let expiries = try log(u).filter { $0.kind == .systemEvent && $0.command == .CANCEL_BUY }
        XCTAssertEqual(expiries.count, 5, "each expired BUY is released and logged exactly once")
    }
}
