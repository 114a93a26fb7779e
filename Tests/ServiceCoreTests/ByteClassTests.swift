import ServiceCore
import XCTest

/// The parser's byte classes are bitmaps written as constants; every byte is checked here
/// against the character lists they stand for (RFC 9110 tchar; RFC 3986 host characters).
final class ByteClassTests: XCTestCase {
    private func parses(_ head: [UInt8]) -> Bool {
        let result = head.withUnsafeBufferPointer { HTTPParser.parseHead($0, limits: HTTPLimits()) }
        if case .head = result { return true }
        return false
    }

    func testHeaderNameBytesAreExactlyTheTokenCharacters() {
        let token = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`|~".utf8)
        for b in UInt8.min...UInt8.max where b != 10 && b != 13 && b != UInt8(ascii: ":") {
            let head = Array("GET / HTTP/1.1\r\nHost: x\r\nX".utf8) + [b] + Array("Y: v\r\n\r\n".utf8)
            XCTAssertEqual(parses(head), token.contains(b), "byte \(b) in a header name")
        }
    }

    func testHostBytes() {
        let host = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~%!$&'()*+,;=:[]".utf8)
        for b in UInt8.min...UInt8.max where b != 10 && b != 13 {
            let head = Array("GET / HTTP/1.1\r\nHost: a".utf8) + [b] + Array("b\r\n\r\n".utf8)
            XCTAssertEqual(parses(head), host.contains(b), "byte \(b) in Host")
        }
    }
}
