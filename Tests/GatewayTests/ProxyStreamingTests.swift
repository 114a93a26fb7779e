import CShim
import Foundation
import ServiceCore
import Synchronization
import XCTest

@testable import GatewayCore

/// Bodies relayed by the event-driven proxy: large ones streamed with a bounded buffer, and
/// answers of unknown length (a future event stream) passed on as they arrive.
final class ProxyStreamingTests: XCTestCase {
    func testASlowReaderOfALargeBodyHoldsABoundedBufferAndGetsEveryByte() throws {
        let length = 256 << 20
        let written = Atomic<Int>(0)
        let upstream = try RawUpstream { fd in
            guard
                RawSocket.send(
                    fd, "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: \(length)\r\n\r\n"
                )
            else { return }
            let chunk = [UInt8]((0..<(64 * 1024)).map { UInt8(truncatingIfNeeded: $0 % 251) })
            while written.load(ordering: .relaxed) < length {
                guard RawSocket.send(fd, chunk) else { return }
                written.add(chunk.count, ordering: .relaxed)
            }
        }
        let gw = try TestGateway(["DT_UPSTREAM_ENGINE": upstream.endpoint.description])
        let client = try RawSocket.connect(gw.endpoint)
        defer { close(client) }
        var small: Int32 = 64 * 1024 // a slow reader: no receive-buffer autotuning
        setsockopt(client, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
        RawSocket.send(client, RawSocket.get("/transaction/getWalletBalance"))
        let head = try XCTUnwrap(RawSocket.readHead(client))
        XCTAssertTrue(head.hasPrefix("HTTP/1.1 200"), head)
        XCTAssertTrue(head.contains("Content-Length: \(length)\r\n"), head)

        // The client reads nothing more: the upstream must come to a stop well short of the body.
        var last = -1
        var stableSince = Date()
        try gw.await("the upstream to stall") {
            let now = written.load(ordering: .relaxed)
            if now != last {
                last = now
                stableSince = Date()
            }
            return Date().timeIntervalSince(stableSince) > 0.5
        }
        XCTAssertLessThan(
            last, 96 << 20, "socket buffers plus a bounded gateway buffer, not the body (\(last) bytes sent)")

        var received = 0
        var firstBytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 256 * 1024)
        while received < length {
            let n = chunk.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { break }
            if firstBytes.count < 1000 { firstBytes += chunk[0..<min(n, 1000)] }
            received += n
        }
        XCTAssertEqual(received, length, "every byte arrives once the client reads")
        XCTAssertEqual(Array(firstBytes.prefix(300)), (0..<300).map { UInt8($0 % 251) })
        try gw.await("the exchange to end") { try gw.bulkheadInFlight("engine") == 0 }
    }

    func testAnAnswerWithoutLengthIsRelayedChunkedAsItArrives() throws {
        let more = DispatchSemaphore(value: 0)
        let upstream = try RawUpstream { fd in
            RawSocket.send(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\ndata: one\n\n")
            more.wait()
            RawSocket.send(fd, "data: two\n\n")
        }
        let gw = try TestGateway(["DT_UPSTREAM_ENGINE": upstream.endpoint.description])
        let client = try RawSocket.connect(gw.endpoint)
        defer { close(client) }
        RawSocket.send(client, RawSocket.get("/engine/events"))
        let head = try XCTUnwrap(RawSocket.readHead(client))
        XCTAssertTrue(head.contains("Transfer-Encoding: chunked\r\n"), head)
        XCTAssertTrue(head.lowercased().contains("content-type: text/event-stream\r\n"), head)
        var first = [UInt8](repeating: 0, count: 256)
        let n = first.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
        XCTAssertEqual(
            String(decoding: first.prefix(max(0, n)), as: UTF8.self), "b\r\ndata: one\n\n\r\n",
            "the first event arrives while the upstream is still open")
        more.signal()
        let rest = String(decoding: RawSocket.readUntil(client, suffix: "0\r\n\r\n"), as: UTF8.self)
        XCTAssertEqual(rest, "b\r\ndata: two\n\n\r\n0\r\n\r\n", "the upstream's close ends the chunked body")
    }

    func testAChunkedUpstreamAnswerIsDecodedAndRelayedAndItsSocketReused() throws {
        let upstream = try RawUpstream { fd in
            RawSocket.send(
                fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=1\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
            // Keep-alive: a second request on the same socket gets a plain answer.
            guard RawSocket.readHead(fd) != nil else { return }
            RawSocket.send(fd, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nagain")
        }
        let gw = try TestGateway(["DT_UPSTREAM_ENGINE": upstream.endpoint.description])
        let client = HTTPClient()
        let first = try client.request(
            gw.endpoint, method: "GET", path: "/engine/stream", headers: [("token", ProxyTestKeys.token())])
        XCTAssertEqual(String(decoding: first.body, as: UTF8.self), "hello world")
        XCTAssertEqual(first.header("transfer-encoding"), "chunked", "re-framed for the client")
        let second = try client.request(
            gw.endpoint, method: "GET", path: "/engine/stream", headers: [("token", ProxyTestKeys.token())])
        XCTAssertEqual(String(decoding: second.body, as: UTF8.self), "again")
        XCTAssertEqual(upstream.connections, 1, "the upstream socket went back to the pool after the last chunk")
    }

    func testAHeadAnswerKeepsTheLengthItsGetWouldHave() throws {
        let upstream = try RawUpstream { fd in
            // The answer to a HEAD: the GET's head, no body.
            RawSocket.send(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 42\r\n\r\n")
        }
        let gw = try TestGateway(["DT_UPSTREAM_ENGINE": upstream.endpoint.description])
        let client = HTTPClient()
        let r = try client.request(
            gw.endpoint, method: "HEAD", path: "/engine/getStockTransactions",
            headers: [("token", ProxyTestKeys.token())])
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.header("content-length"), "42")
        XCTAssertTrue(r.body.isEmpty)
    }

    func testABodyCutShortClosesTheClientConnectionInsteadOfLookingComplete() throws {
        let upstream = try RawUpstream { fd in
            RawSocket.send(
                fd, "HTTP/1.1 200 OK\r\nContent-Length: 300000\r\n\r\n" + String(repeating: "x", count: 100_000))
        }
        let gw = try TestGateway(["DT_UPSTREAM_ENGINE": upstream.endpoint.description])
        let client = try RawSocket.connect(gw.endpoint)
        defer { close(client) }
        RawSocket.send(client, RawSocket.get("/transaction/getStockPrices"))
        let head = try XCTUnwrap(RawSocket.readHead(client))
        XCTAssertTrue(head.contains("Content-Length: 300000"), head)
        XCTAssertEqual(RawSocket.readAll(client).count, 100_000, "what the upstream sent, then the close")
    }
}
