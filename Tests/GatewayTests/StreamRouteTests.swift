import ServiceCore
import XCTest

@testable import GatewayCore

/// GET /engine/stream passes the gateway without a token (the engine checks its ticket), with
/// no identity headers, still under the per-IP bucket; Last-Event-ID is forwarded.
final class StreamRouteTests: XCTestCase {
    func handler(ipBurst: Double) -> GatewayHandler {
        GatewayHandler(
            authenticator: TokenAuthenticator(jwt: JWT(secret: "s"), clock: SystemClock()),
            ipLimiter: RateLimiter(ratePerSecond: 0.001, burst: ipBurst),
            userLimiter: RateLimiter(ratePerSecond: 1000, burst: 1000),
            proxy: Proxy(
                pools: [:], bulkheads: [:], timeoutMillis: 1000, logger: Logger.json(service: "test"),
                signer: GatewayProof(key: "k")!),
            requestIds: RequestIds())
    }

    func request(_ path: String, _ headers: [(name: String, value: String)] = []) -> HTTPRequest {
        HTTPRequest(method: "GET", path: path, query: "ticket=t", headers: [("x-real-ip", "10.1.2.3")] + headers)
    }

    func testTheStreamNeedsNoTokenButStaysLimitedPerIP() {
        let h = handler(ipBurst: 2)
        // A client's own x-user-id is never taken as identity.
        guard case .forward(let group, let identity, let ip) = h.decide(request("/engine/stream", [("x-user-id", "1")]))
        else {
            return XCTFail("forwarded without a token")
        }
        XCTAssertEqual(group, .engine)
        XCTAssertNil(identity)
        XCTAssertEqual(ip, "10.1.2.3")
        guard case .answer(let tokenless) = h.decide(request("/engine/streamTicket")) else {
            return XCTFail("the ticket route needs a token")
        }
        XCTAssertEqual(tokenless.status, 401)
        guard case .answer(let limited) = h.decide(request("/engine/stream")) else {
            return XCTFail("the IP's bucket is empty")
        }
        XCTAssertEqual(limited.status, 429)
    }

    func testLastEventIdIsForwardedAndIdentityHeadersAreNot() {
        let r = HTTPRequest(
            method: "GET", path: "/engine/stream", query: "ticket=t",
            headers: [("last-event-id", "5-1"), ("x-user-id", "1"), ("x-user-name", "admin")])
        let up = UpstreamRequest(
            r, identity: nil, clientIP: "10.1.2.3", requestId: "r1", signer: GatewayProof(key: "k")!)
        let names = up.headers.map(\.0)
        XCTAssertTrue(up.headers.contains { $0.0 == "last-event-id" && $0.1 == "5-1" })
        XCTAssertFalse(names.contains("x-user-id"))
        XCTAssertFalse(names.contains("x-user-name"))
        XCTAssertEqual(up.target, "/engine/stream?ticket=t")
    }
}
