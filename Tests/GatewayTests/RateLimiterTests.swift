import ServiceCore
import XCTest

@testable import GatewayCore

final class RateLimiterTests: XCTestCase {
    func testBurstThenLimitedWithRetryAfterThenRefilled() {
        let clock = ManualClock()
        let limiter = RateLimiter(ratePerSecond: 2, burst: 3, now: clock.read)
        for i in 0..<3 { XCTAssertEqual(limiter.take("alice"), .allowed, "request \(i) is inside the burst") }
        XCTAssertEqual(limiter.take("alice"), .limited(retryAfterSeconds: 1))
        XCTAssertEqual(limiter.take("bob"), .allowed, "each key has its own bucket")
        clock.advance(millis: 500)
        XCTAssertEqual(limiter.take("alice"), .allowed, "half a second at 2/s refills one token")
        XCTAssertEqual(limiter.take("alice"), .limited(retryAfterSeconds: 1))
    }

    func testRetryAfterRoundsUpToWholeSeconds() {
        let clock = ManualClock()
        let limiter = RateLimiter(ratePerSecond: 0.25, burst: 1, now: clock.read)
        XCTAssertEqual(limiter.take("ip"), .allowed)
        XCTAssertEqual(limiter.take("ip"), .limited(retryAfterSeconds: 4))
    }

    func testZeroRateTurnsTheLimiterOff() {
        let limiter = RateLimiter(ratePerSecond: 0, burst: 1)
        for _ in 0..<100 { XCTAssertEqual(limiter.take("x"), .allowed) }
        XCTAssertEqual(limiter.trackedKeys, 0)
    }

    func testClientAddressPrefersNginxsHeaders() {
        var r = HTTPRequest(method: "GET", path: "/", remoteAddress: "127.0.0.1")
        XCTAssertEqual(ClientAddress.of(r), "127.0.0.1")
        r.headers = [("x-forwarded-for", "6.6.6.6, 10.0.0.9")]
        XCTAssertEqual(ClientAddress.of(r), "10.0.0.9", "only the hop nginx appended counts")
        r.headers.append(("x-real-ip", "10.0.0.7"))
        XCTAssertEqual(ClientAddress.of(r), "10.0.0.7")
    }
}
