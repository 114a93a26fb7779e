import Foundation
import ServiceCore
import Synchronization
import XCTest

/// A slow classic service (quote latency 5 s) against the event-driven gateway: its requests
/// fill only the util group's bulkhead, extra ones get 503 + Retry-After at once, and the
/// platform routes through the same gateway keep their latency.
final class GatewayIsolationTests: XCTestCase {
    private func setQuoteDelay(_ ms: Int) throws {
        let quote = try EdgeEnv.service(defaultPort: 8500)
        let r = try PTEnv.signedClient.request(
            quote, method: "POST", path: "/control", body: Array(#"{"delayMs":\#(ms)}"#.utf8))
        XCTAssertEqual(r.status, 200, "quote-server /control")
    }

    private static func randomSymbol() -> String {
        String((0..<3).map { _ in Character(Unicode.Scalar(UInt8.random(in: 65...90))) })
    }

    func testASlowClassicServiceFillsOnlyItsBulkheadAndPlatformRoutesKeepTheirLatency() throws {
        let gw = try EdgeProcess(
            "gateway",
            env: [
                "DT_JWT_SECRET": try EdgeEnv.jwtSecret(), "DT_RATE_USER_RPS": "0", "DT_BULKHEAD_UTIL_REQUESTS": "8",
                "DT_UPSTREAM_AUTH": try EdgeEnv.service(defaultPort: 8100).description,
                "DT_UPSTREAM_ENGINE": try EdgeEnv.service(defaultPort: 8600).description,
                "DT_UPSTREAM_UTIL": try EdgeEnv.service(defaultPort: 8400).description,
            ])
        defer { gw.stop() }
        let (_, token) = try EdgeHTTP.newUser(gw.endpoint, prefix: "isolate")
        let balance = {
            try EdgeHTTP.call(gw.endpoint, "GET", "/transaction/getWalletBalance", headers: [("token", token)])
        }
        XCTAssertEqual(try balance().status, 200)
        // The account classic commands act on.
        XCTAssertEqual(
            try EdgeHTTP.call(
                gw.endpoint, "POST", "/transaction/addMoneyToWallet", headers: [("token", token)],
                body: #"{"amount":10}"#
            ).status, 200)

        try setQuoteDelay(5000)
        defer { try? setQuoteDelay(0) }
        let endpoint = gw.endpoint
        let slow = Mutex<[(status: Int, seconds: Double)]>([])
        let group = DispatchGroup()
        for _ in 0..<8 {
            let body = #"{"stock":"\#(Self.randomSymbol())"}"#
            group.enter()
            // A thread each: a global queue may start fewer blocking tasks at once than asked.
            Thread {
                let start = Date()
                let status =
                    (try? EdgeHTTP.call(endpoint, "POST", "/classic/QUOTE", headers: [("token", token)], body: body))?
                    .status ?? -1
                slow.withLock { $0.append((status, Date().timeIntervalSince(start))) }
                group.leave()
            }.start()
        }
        func utilInFlight() throws -> Int {
            let r = try EdgeHTTP.call(gw.endpoint, "GET", "/gateway/status", signed: true)
            return Int(r.json?["bulkheads"]?["util"]?["in_flight"]?.int64Value ?? -1)
        }
        let deadline = Date().addingTimeInterval(4)
        while try utilInFlight() < 8 {
            guard Date() < deadline else {
                return XCTFail(
                    "the slow quotes never filled the util bulkhead: \(try utilInFlight()) in flight, done: \(slow.withLock { $0 })"
                )
            }
            usleep(20_000)
        }

        let refusedAt = Date()
        let refused = try EdgeHTTP.call(
            gw.endpoint, "POST", "/classic/QUOTE", headers: [("token", token)],
            body: #"{"stock":"\#(Self.randomSymbol())"}"#)
        XCTAssertEqual(refused.status, 503, refused.text)
        XCTAssertEqual(refused.header("retry-after"), "1")
        XCTAssertLessThan(Date().timeIntervalSince(refusedAt), 1, "refused at once, not queued")

        var worst = 0.0
        for _ in 0..<20 {
            let start = Date()
            XCTAssertEqual(try balance().status, 200)
            worst = max(worst, Date().timeIntervalSince(start))
        }
        XCTAssertLessThan(worst, 1.0, "platform reads stay fast while every util slot waits on a 5 s quote")
        XCTAssertEqual(try utilInFlight(), 8, "the slow quotes were still outstanding during the platform calls")

        XCTAssertEqual(group.wait(timeout: .now() + 30), .success)
        for r in slow.withLock({ $0 }) {
            XCTAssertGreaterThan(r.seconds, 4, "each quote waited on the slow quote-server")
            XCTAssertTrue(
                r.status == 200 || r.status == 503, "answered by util (a quote or QUOTE_UNAVAILABLE): \(r.status)")
        }
    }
}
