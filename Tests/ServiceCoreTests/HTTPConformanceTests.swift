import Foundation
import ServiceCore
import XCTest

/// Protocol edge cases against an in-process core server (the code every service runs), over raw
/// sockets. The server's request timeout is 15 s and the client waits at most 3 s, so a request
/// that is not refused at once fails these tests instead of hanging them.
final class HTTPConformanceTests: XCTestCase {
    private func server() throws -> TestServer {
        try TestServer { r in
            r.get("/hello", mode: .inline) { _, _ in .text("hi") }
            r.post("/echo", mode: .blocking) { req, _ in HTTPResponse(status: 200, body: req.body) }
        }
    }

    private func client(_ s: TestServer) throws -> RawClient { try RawClient(port: s.port, timeoutMillis: 3000) }

    /// Sends `bytes`, expects `status` with the JSON error envelope, then the connection closed.
    private func assertRefused(
        _ bytes: [UInt8], _ status: Int, on s: TestServer, file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let c = try client(s)
        c.send(bytes)
        let r = c.readResponse()
        let shown = String(decoding: bytes.prefix(60), as: UTF8.self).debugDescription
        XCTAssertEqual(r?.status, status, "for \(shown)", file: file, line: line)
        XCTAssertEqual(r?.headers["content-type"], "application/json", "for \(shown)", file: file, line: line)
        XCTAssertTrue(
            r?.body.hasPrefix(#"{"success":false,"data":{"error":"#) ?? false, "for \(shown)", file: file, line: line)
        XCTAssertEqual(r?.headers["connection"], "close", file: file, line: line)
        XCTAssertTrue(c.isClosedByPeer(), "still open after \(shown)", file: file, line: line)
    }

    private func assertRefused(
        _ text: String, _ status: Int, on s: TestServer, file: StaticString = #filePath, line: UInt = #line
    ) throws {
        try assertRefused(Array(text.utf8), status, on: s, file: file, line: line)
    }

    private func assertServed(
        _ text: String, on s: TestServer, body: String = "hi", file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let c = try client(s)
        c.send(text)
        let r = c.readResponse()
        XCTAssertEqual(r?.status, 200, "for \(text.debugDescription)", file: file, line: line)
        XCTAssertEqual(r?.body, body, file: file, line: line)
    }

    // MARK: not HTTP/1.x at all

    func testHTTP09RequestLineGets400AndClose() throws {
        let s = try server()
        defer { s.stop() }
        try assertRefused("GET /\r\n", 400, on: s)
        try assertRefused("GET /hello\n", 400, on: s)
    }

    func testTLSClientHelloGets400AndClose() throws {
        let s = try server()
        defer { s.stop() }
        // The start of a real TLS 1.2/1.3 ClientHello: record type 0x16, version, length, handshake.
        let hello: [UInt8] =
            [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03] + (0..<32).map { UInt8($0) }
            + [0x20] + (0..<32).map { UInt8(255 - $0) } + [0x00, 0x3e, 0x13, 0x02, 0x13, 0x03, 0x13, 0x01]
        try assertRefused(hello, 400, on: s)
    }

    func testBinaryGarbageGets400WithoutWaitingForAHeadEnd() throws {
        let s = try server()
        defer { s.stop() }
        try assertRefused([0x00, 0xff, 0x13, 0x37], 400, on: s)
        try assertRefused(Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8), 505, on: s)
        try assertRefused(Array("GETGETGETGETGETGETGETGETGETGETGETGETGET".utf8), 400, on: s) // method too long
        try assertRefused(Array("GET / SSH-2.0".utf8), 400, on: s)
        // Noise after a valid request line is refused as soon as its header line is seen.
        try assertRefused([UInt8]("GET /hello HTTP/1.1\r\n".utf8) + [0x16, 0x03, 0x01, 0x00], 400, on: s)
    }

    // MARK: Host

    func testHostRules() throws {
        let s = try server()
        defer { s.stop() }
        try assertRefused("GET /hello HTTP/1.1\r\n\r\n", 400, on: s)
        try assertRefused("GET /hello HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, on: s)
        try assertRefused("GET /hello HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", 400, on: s)
        try assertRefused("GET /hello HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 400, on: s)
        try assertRefused("GET /hello HTTP/1.1\r\nHost: a/b\r\n\r\n", 400, on: s)
        try assertServed("GET /hello HTTP/1.0\r\n\r\n", on: s)
        try assertServed("GET /hello HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", on: s)
    }

    // MARK: Expect: 100-continue

    func testExpectContinueSends100ThenReadsTheBody() throws {
        let s = try server()
        defer { s.stop() }
        let c = try client(s)
        c.send("POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
        // The client sends nothing more until it has the go-ahead.
        XCTAssertEqual(c.readResponse()?.status, 100)
        c.send("hello")
        let r = c.readResponse()
        XCTAssertEqual(r?.status, 200)
        XCTAssertEqual(r?.body, "hello")
        // The connection stays usable.
        c.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(c.readResponse()?.body, "hi")
    }

    func testExpectContinueWithTooLargeBodyGets413WithoutReadingIt() throws {
        let s = try server()
        defer { s.stop() }
        try assertRefused(
            "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: \(64 * 1024 * 1024)\r\n\r\n",
            413, on: s)
    }

    func testUnknownExpectationGets417() throws {
        let s = try server()
        defer { s.stop() }
        try assertRefused("POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\nContent-Length: 5\r\n\r\n", 417, on: s)
    }

    func testExpectContinueToAMissingRouteGetsTheFinalStatusAtOnce() throws {
        let s = try server()
        defer { s.stop() }
        try assertRefused(
            "POST /nowhere HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n", 404, on: s)
    }

    func testExpectIsIgnoredOnHTTP10() throws {
        let s = try server()
        defer { s.stop() }
        let c = try client(s)
        c.send("POST /echo HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok")
        let r = c.readResponse()
        XCTAssertEqual(r?.status, 200, "an HTTP/1.0 client must never see a 1xx response")
        XCTAssertEqual(r?.body, "ok")
    }

    // MARK: framing and syntax

    func testAmbiguousFramingGets400() throws {
        let s = try server()
        defer { s.stop() }
        try assertRefused(
            "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc", 400, on: s)
        try assertRefused(
            "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\nContent-Length: 3\r\n\r\nabc", 400, on: s)
        try assertRefused(
            "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400, on: s)
        try assertRefused("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 3\r\n\r\nabc", 400, on: s)
        try assertRefused("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: +3\r\n\r\nabc", 400, on: s)
        try assertRefused("POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, on: s)
        try assertRefused("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501, on: s)
        // Equal duplicates are one length (RFC 9112 §6.3).
        try assertServed(
            "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok", on: s, body: "ok")
    }

    func testMalformedHeaderLinesGet400() throws {
        let s = try server()
        defer { s.stop() }
        try assertRefused("GET /hello HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n continued\r\n\r\n", 400, on: s) // obs-fold
        try assertRefused("GET /hello HTTP/1.1\r\nHost : x\r\n\r\n", 400, on: s) // space before colon
        try assertRefused("GET /hello HTTP/1.1\r\nHost: x\r\nX(A): 1\r\n\r\n", 400, on: s)
        try assertRefused("GET /hello HTTP/1.1\r\nHost: x\r\n: empty\r\n\r\n", 400, on: s)
        try assertRefused("GET /hello HTTP/1.1\r\nHost: x\r\nX-A: a\u{0}b\r\n\r\n", 400, on: s)
        try assertRefused("GET /hello HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n", 400, on: s) // bare CR
    }

    func testTargetsThatAreNotTextGet400() throws {
        let s = try server()
        defer { s.stop() }
        // raw UTF-8
        try assertRefused(
            [UInt8]("GET /caf".utf8) + [0xc3, 0xa9] + [UInt8](" HTTP/1.1\r\nHost: x\r\n\r\n".utf8), 400, on: s)
        try assertRefused([UInt8]("GET /a".utf8) + [0x01] + [UInt8]("b HTTP/1.1\r\nHost: x\r\n\r\n".utf8), 400, on: s)
        try assertRefused("GET /%FF HTTP/1.1\r\nHost: x\r\n\r\n", 400, on: s)
        try assertRefused("GET /%C0%AF HTTP/1.1\r\nHost: x\r\n\r\n", 400, on: s) // overlong '/'
        try assertRefused("GET /%ED%A0%80 HTTP/1.1\r\nHost: x\r\n\r\n", 400, on: s) // UTF-16 surrogate
        try assertRefused("GET /a%00b HTTP/1.1\r\nHost: x\r\n\r\n", 400, on: s)
        try assertRefused("GET /hello?q=%0A HTTP/1.1\r\nHost: x\r\n\r\n", 400, on: s)
        try assertRefused("GET /a%zz HTTP/1.1\r\nHost: x\r\n\r\n", 400, on: s)
        try assertRefused("GET * HTTP/1.1\r\nHost: x\r\n\r\n", 400, on: s)
        // Well-formed escapes of UTF-8 text are routed as usual (404 here: no such route).
        let c = try client(s)
        c.send("GET /caf%C3%A9?q=%E2%82%AC HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(c.readResponse()?.status, 404)
    }

    func testConnectionCloseInAnOptionListCloses() throws {
        let s = try server()
        defer { s.stop() }
        let c = try client(s)
        c.send("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: TE, close\r\n\r\n")
        XCTAssertEqual(c.readResponse()?.headers["connection"], "close")
        XCTAssertTrue(c.isClosedByPeer())
        let old = try client(s)
        old.send("GET /hello HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\nGET /hello HTTP/1.0\r\n\r\n")
        XCTAssertNil(old.readResponse()?.headers["connection"], "HTTP/1.0 keep-alive was not honoured")
        XCTAssertEqual(old.readResponse()?.headers["connection"], "close")
    }

    func testBlankLinesBeforeARequestAreIgnored() throws {
        let s = try server()
        defer { s.stop() }
        let c = try client(s)
        // Some clients send CRLF after a body; RFC 9112 §2.2 says to ignore it.
        c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok\r\n")
        XCTAssertEqual(c.readResponse()?.body, "ok")
        c.send("\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(c.readResponse()?.body, "hi")
    }
}
