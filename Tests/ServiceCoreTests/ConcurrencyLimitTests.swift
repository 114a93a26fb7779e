import Foundation
import ServiceCore
import Synchronization
import XCTest

final class ConcurrencyLimitTests: XCTestCase {
    func testNoMoreThanTheLimitRunAtOnceAndEveryoneRuns() {
        let limit = ConcurrencyLimit(2)
        let done = Atomic<Int>(0)
        let group = DispatchGroup()
        for _ in 0..<8 {
            group.enter()
            Thread {
                limit.run { usleep(20_000) } // long enough that the 8 threads overlap
                done.add(1, ordering: .relaxed)
                group.leave()
            }.start()
        }
        XCTAssertEqual(group.wait(timeout: .now() + 10), .success)
        XCTAssertEqual(done.load(ordering: .relaxed), 8)
        XCTAssertEqual(limit.peakConcurrency, 2, "two at a time, and the limit was reached")
    }

    func testResultsAndErrorsPassThrough() {
        struct Boom: Error {}
        let limit = ConcurrencyLimit(0)
        XCTAssertEqual(limit.limit, 1, "at least one")
        XCTAssertEqual(limit.run { 41 + 1 }, 42)
        XCTAssertThrowsError(try limit.run { throw Boom() })
        XCTAssertEqual(limit.run { 7 }, 7, "a throwing caller gave its permit back")
    }
}
