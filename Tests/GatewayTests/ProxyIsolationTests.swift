import CShim
import Foundation
import ServiceCore
import Synchronization
import XCTest

@testable import GatewayCore

/// Bulkheads, retries and drain of the event-driven proxy, against in-process upstreams.
final class ProxyIsolationTests: XCTestCase {
    private static func call(_ gw: TestGateway, _ method: String, _ path: String, timeout: Int = 10_000) throws
        -> ClientResponse
    {
        try HTTPClient().request(
            gw.endpoint, method: method, path: path, headers: [("token", ProxyTestKeys.token())],
            body: method == "POST" ? Array("{}".utf8) : [], timeoutMillis: timeout)
    }

    func testAFullBulkheadAnswers503WithRetryAfterWhileOtherGroupsAnswer() throws {
        let release = DispatchSemaphore(value: 0)
        let slow = try TestUpstream { _, _ in
            release.wait()
            return .json(.object([("slow", .bool(true))]))
        }
        let fast = try TestUpstream { _, _ in .json(.object([("fast", .bool(true))])) }
        let gw = try TestGateway([
            "DT_UPSTREAM_UTIL": slow.endpoint.description, "DT_UPSTREAM_ENGINE": fast.endpoint.description,
            "DT_BULKHEAD_UTIL_REQUESTS": "2",
        ])
        let held = Mutex<[Int]>([])
        let group = DispatchGroup()
        for _ in 0..<2 {
            spawn(group) {
                let status = (try? Self.call(gw, "POST", "/classic/QUOTE"))?.status ?? -1
                held.withLock { $0.append(status) }
            }
        }
        try gw.await("two util requests in flight") { try gw.bulkheadInFlight("util") == 2 }

        let refused = try Self.call(gw, "POST", "/classic/QUOTE")
        XCTAssertEqual(refused.status, 503)
        XCTAssertEqual(refused.header("retry-after"), "1")
        XCTAssertTrue(String(decoding: refused.body, as: UTF8.self).contains("too many util requests"))
        XCTAssertNotNil(refused.header("x-request-id"))
        let started = Date()
        let other = try Self.call(gw, "GET", "/transaction/getWalletBalance")
        XCTAssertEqual(other.status, 200, "another group is untouched")
        XCTAssertLessThan(Date().timeIntervalSince(started), 1)
        XCTAssertEqual(try gw.bulkheadInFlight("util"), 2, "the slow ones are still held")

        release.signal()
        release.signal()
        release.signal()
        XCTAssertEqual(group.wait(timeout: .now() + 10), .success)
        XCTAssertEqual(held.withLock { $0 }, [200, 200])
        XCTAssertEqual(try Self.call(gw, "POST", "/classic/QUOTE").status, 200, "room again once they finished")
        XCTAssertEqual(Int(try gw.status()["bulkheads"]?["util"]?["refused"]?.int64Value ?? -1), 1)
    }

    func testARequestThatReachedTheUpstreamIsNeverSentAgain() throws {
        let upstream = try RawUpstream { _ in } // reads the request, then closes without answering
        let gw = try TestGateway([
            "DT_UPSTREAM_ENGINE": upstream.endpoint.description + "," + upstream.endpoint.description
        ])
        let r = try Self.call(gw, "POST", "/engine/placeStockOrder")
        XCTAssertEqual(r.status, 502, String(decoding: r.body, as: UTF8.self))
        XCTAssertEqual(upstream.requests, 1, "not retried on the other instance")
        // It may have been committed: the answer must not read as "not done, send it again".
        XCTAssertTrue(
            String(decoding: r.body, as: UTF8.self).contains("may or may not have been recorded"),
            String(decoding: r.body, as: UTF8.self))
        XCTAssertEqual(r.header("retry-after"), "1")
    }

    func testDrainAnswersTheProxiedRequestsInFlight() throws {
        let release = DispatchSemaphore(value: 0)
        let slow = try TestUpstream { _, _ in
            release.wait()
            return .json(.object([("done", .bool(true))]))
        }
        let gw = try TestGateway(["DT_UPSTREAM_ENGINE": slow.endpoint.description])
        let result = Mutex<Int>(-1)
        let group = DispatchGroup()
        spawn(group) {
            let status = (try? Self.call(gw, "GET", "/transaction/getWalletBalance"))?.status ?? -2
            result.withLock { $0 = status }
        }
        try gw.await("the request in flight") { try gw.bulkheadInFlight("engine") == 1 }
        let drained = DispatchGroup()
        spawn(drained) { gw.service.shutdown() }
        // The listener closes when the drain starts; only then let the upstream answer.
        try gw.await("the listener to close") {
            let fd = cshim_connect_tcp("127.0.0.1", Int32(gw.port), 500)
            if fd >= 0 { close(fd) }
            return fd < 0
        }
        release.signal()
        XCTAssertEqual(group.wait(timeout: .now() + 10), .success)
        XCTAssertEqual(result.withLock { $0 }, 200, "the request in flight was answered during the drain")
        XCTAssertEqual(drained.wait(timeout: .now() + 15), .success, "the drain ends once it is answered")
    }
}
