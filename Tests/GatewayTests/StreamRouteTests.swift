import ServiceCore
import XCTest

@testable import GatewayCore

/// GET /engine/stream is not the gateway's: nginx sends it straight to the market-stream service
/// (which checks the ticket). A request that reaches a gateway anyway is an ordinary engine path,
/// token required; identity headers a client sends are never forwarded, Last-Event-ID is.
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

    func testTheGatewayHasNoTokenlessStreamRoute() {
        let h = handler(ipBurst: 10)
        for path in ["/engine/stream", "/engine/streamTicket"] {
            guard case .answer(let tokenless) = h.decide(request(path, [("x-user-id", "1")])) else {
                return XCTFail("\(path) forwarded without a token")
            }
            XCTAssertEqual(tokenless.status, 401, path)
        }
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
