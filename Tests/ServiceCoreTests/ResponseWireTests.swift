import ServiceCore
import XCTest

/// The one HTTP/1.1 response reader (head, framing, chunked bodies) that HTTPClient, the gateway,
/// dts-load and dts-replay share.
final class ResponseWireTests: XCTestCase {
    private func parse(_ text: String, eof: Bool = false) -> BufferedResponse {
        Array(text.utf8).withUnsafeBytes { BufferedResponse.parse($0, eof: eof) }
    }

    func testChunkedBodyFedAByteAtATimeWithExtensionsAndTrailers() throws {
        let wire = Array(
            "4;name=v\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nExpires: never\r\n\r\nNEXT".utf8)
        var decoder = ChunkedDecoder()
        var body: [UInt8] = []
        var used = 0
        for i in 0..<wire.count where !decoder.finished {
            used += try wire[i...i].withUnsafeBytes { try decoder.feed($0) { body.append(contentsOf: $0) } }
        }
        XCTAssertTrue(decoder.finished)
        XCTAssertEqual(String(decoding: body, as: UTF8.self), "Wikipedia in\r\n\r\nchunks.")
        XCTAssertEqual(used, wire.count - 4, "the bytes after the body are left for the next message")
    }

    func testMalformedChunksAreRefused() {
        for bad in ["zz\r\nabc\r\n0\r\n\r\n", "3\r\nabcdef\r\n0\r\n\r\n", "\r\n"] {
            var decoder = ChunkedDecoder()
            XCTAssertThrowsError(try Array(bad.utf8).withUnsafeBytes { try decoder.feed($0) { _ in } }, bad)
        }
    }

    func testWholeResponsesByEveryFraming() {
        guard
            case .complete(let h, let body, let consumed) = parse(
                "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1")
        else {
            return XCTFail("length-framed")
        }
        XCTAssertEqual(h.status, 200)
        XCTAssertEqual(body, Array("ok".utf8))
        XCTAssertEqual(consumed, 40)
        XCTAssertFalse(h.closes)

        guard
            case .complete(_, let chunked, _) = parse(
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n")
        else {
            return XCTFail("chunked")
        }
        XCTAssertEqual(chunked, Array("hi".utf8))

        guard case .incomplete = parse("HTTP/1.1 200 OK\r\n\r\nstream") else {
            return XCTFail("no length: open until the close")
        }
        guard case .complete(let h10, let closeDelimited, _) = parse("HTTP/1.0 200 OK\r\n\r\nstream", eof: true) else {
            return XCTFail("no length, closed")
        }
        XCTAssertEqual(closeDelimited, Array("stream".utf8))
        XCTAssertTrue(h10.closes, "HTTP/1.0 closes unless it says keep-alive")

        guard case .complete(_, let none, _) = parse("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n") else {
            return XCTFail("204")
        }
        XCTAssertEqual(none, [], "204 has no body whatever it says")
        guard case .malformed = parse("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort", eof: true) else {
            return XCTFail("cut short")
        }
        guard case .malformed = parse("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab") else {
            return XCTFail("conflicting lengths")
        }
        guard case .malformed = parse("SMTP ready\r\n\r\n") else { return XCTFail("not HTTP") }
    }
}
