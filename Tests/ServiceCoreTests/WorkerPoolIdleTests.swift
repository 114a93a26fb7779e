import Foundation
import XCTest

@testable import ServiceCore

/// A worker pool that has been quiet gives back its workers' connections (`ReleasedWhenIdle`),
/// and only those; a trickle of jobs spread over the workers does not make them reconnect.
final class WorkerPoolIdleTests: XCTestCase {
    /// Opens its gate when freed.
    final class Connection: ReleasedWhenIdle {
        let gone: Gate
        init(_ gone: Gate) { self.gone = gone }
        deinit { gone.open() }
    }

    final class Cache {
        let gone: Gate
        init(_ gone: Gate) { self.gone = gone }
        deinit { gone.open() }
    }

    private func pool(idleReleaseMillis: UInt64) -> WorkerPool {
        let pool = WorkerPool(size: 2, capacity: 64, idleReleaseMillis: idleReleaseMillis)
        pool.start { i in WorkerContext(config: ServiceConfig(name: "t", environment: [:]), index: i) }
        return pool
    }

    func testAQuietPoolDropsItsConnectionsAndKeepsTheRest() {
        let pool = pool(idleReleaseMillis: 200)
        defer { pool.stop() }
        let connectionGone = Gate()
        let cacheGone = Gate()
        let ran = Gate()
        XCTAssertTrue(
            pool.submit { ctx in
                _ = ctx.local(Connection.self) { Connection(connectionGone) }
                _ = ctx.local(Cache.self) { Cache(cacheGone) }
                ran.open()
            })
        XCTAssertTrue(ran.wait())
        XCTAssertTrue(connectionGone.wait(seconds: 10), "released once the pool had been quiet for 200 ms")
        XCTAssertFalse(cacheGone.wait(seconds: 0.5), "state that is not ReleasedWhenIdle stays")
    }

    func testATrickleOfJobsKeepsTheConnectionsUntilItStops() {
        let pool = pool(idleReleaseMillis: 1500)
        defer { pool.stop() }
        let gone = Gate()
        let made = Gate()
        // A job every 50 ms for 2 s, spread over both workers: each worker may go longer than
        // 50 ms without one, but the pool never goes 1.5 s.
        let until = Date().addingTimeInterval(2)
        while Date() < until {
            XCTAssertTrue(
                pool.submit { ctx in
                    _ = ctx.local(Connection.self) {
                        made.open()
                        return Connection(gone)
                    }
                })
            usleep(50_000)
        }
        XCTAssertFalse(gone.wait(seconds: 0), "no connection was dropped while jobs kept coming")
        XCTAssertTrue(made.wait(seconds: 0), "the jobs made their connections")
        XCTAssertTrue(gone.wait(seconds: 10), "dropped after the jobs stopped")
    }

    /// malloc's arenas are trimmed once per quiet period, by the last worker to let go — not by
    /// every worker, and not again while the pool stays quiet.
    func testAQuietPeriodTrimsOnceAfterEveryWorkerLetGo() {
        let pool = pool(idleReleaseMillis: 200)
        defer { pool.stop() }
        XCTAssertTrue(waitFor(seconds: 10) { pool.trims == 1 }, "trimmed after both workers let go")
        usleep(600_000)
        XCTAssertEqual(pool.trims, 1, "a pool that stays quiet does not trim again")
        let ran = Gate()
        XCTAssertTrue(pool.submit { _ in ran.open() })
        XCTAssertTrue(ran.wait())
        XCTAssertTrue(waitFor(seconds: 10) { pool.trims == 2 }, "the next quiet period trims again")
    }

    private func waitFor(seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(10_000)
        }
        return condition()
    }

    func testZeroKeepsTheConnectionsForever() {
        let pool = pool(idleReleaseMillis: 0)
        defer { pool.stop() }
        let gone = Gate()
        XCTAssertTrue(pool.submit { ctx in _ = ctx.local(Connection.self) { Connection(gone) } })
        XCTAssertFalse(gone.wait(seconds: 1))
    }
}
