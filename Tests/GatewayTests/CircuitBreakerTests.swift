import Synchronization
import XCTest

@testable import GatewayCore

/// A clock the test moves by hand.
final class ManualClock: Sendable {
    private let nanos = Atomic<UInt64>(1_000_000_000)
    func advance(millis: UInt64) { nanos.add(millis * 1_000_000, ordering: .relaxed) }
    var read: @Sendable () -> UInt64 { { [self] in nanos.load(ordering: .relaxed) } }
}

final class CircuitBreakerTests: XCTestCase {
    func testOpensAfterThresholdFailuresInARowAndASuccessResetsTheCount() {
        let clock = ManualClock()
        let b = CircuitBreaker(failureThreshold: 3, openMillis: 1000, now: clock.read)
        XCTAssertFalse(b.recordFailure())
        XCTAssertFalse(b.recordFailure())
        b.recordSuccess()
        XCTAssertFalse(b.recordFailure(), "a success in between starts the count again")
        XCTAssertFalse(b.recordFailure())
        XCTAssertTrue(b.recordFailure(), "the third failure in a row opens it")
        XCTAssertEqual(b.snapshot.state, .open)
        XCTAssertFalse(b.tryAcquire())
        XCTAssertFalse(b.isAvailable)
    }

    func testHalfOpenLetsExactlyOneProbeThroughAndItsOutcomeDecides() {
        let clock = ManualClock()
        let b = CircuitBreaker(failureThreshold: 1, openMillis: 500, now: clock.read)
        b.recordFailure()
        clock.advance(millis: 499)
        XCTAssertFalse(b.tryAcquire(), "still open")
        clock.advance(millis: 1)
        XCTAssertTrue(b.tryAcquire(), "the probe")
        XCTAssertEqual(b.snapshot.state, .halfOpen)
        XCTAssertFalse(b.tryAcquire(), "only one probe at a time")
        XCTAssertTrue(b.recordFailure(), "a failed probe opens it again")
        XCTAssertEqual(b.snapshot.timesOpened, 2)
        clock.advance(millis: 500)
        XCTAssertTrue(b.tryAcquire())
        XCTAssertTrue(b.recordSuccess(), "a good probe closes it")
        XCTAssertEqual(b.snapshot.state, .closed)
        XCTAssertTrue(b.tryAcquire())
    }

    func testNeutralAnswersAndAbandonedProbesNeverLeaveItStuck() {
        let clock = ManualClock()
        let b = CircuitBreaker(failureThreshold: 2, openMillis: 100, now: clock.read)
        b.recordFailure()
        b.recordNeutral()
        XCTAssertEqual(b.snapshot.consecutiveFailures, 1, "a 503 does not reset a closed breaker's count")
        b.recordFailure()
        XCTAssertEqual(b.snapshot.state, .open)
        clock.advance(millis: 100)
        XCTAssertTrue(b.tryAcquire())
        b.abandonProbe()
        XCTAssertEqual(b.snapshot.state, .halfOpen)
        XCTAssertTrue(b.tryAcquire(), "the probe's client left: another request may probe")
        b.recordNeutral()
        XCTAssertEqual(b.snapshot.state, .closed, "a live instance's own 503 closes a half-open breaker")
    }
}
