import Foundation
import ServiceCore
import XCTest

/// Raw-socket cases through the test stack's nginx (rendered from the production template).
final class NginxHardeningTests: XCTestCase {
    private func nginxPort() throws -> Int {
        let url = try TestEnv.require("DT_TEST_NGINX")
        guard let port = url.split(separator: ":").last.flatMap({ Int($0) }) else {
            throw XCTSkip("bad DT_TEST_NGINX \(url)")
        }
        return port
    }

    private func answer(_ bytes: [UInt8], timeoutMillis: Int32 = 5000) throws -> (
        status: Int, headers: [String: String], body: String
    )? {
        let c = try RawClient(port: try nginxPort(), timeoutMillis: timeoutMillis)
        c.send(bytes)
        return c.readResponse()
    }

    func testHalfClosedClientStillGetsItsAnswer() throws {
        // `nc -N`: the request, then shutdown(SHUT_WR). Without proxy_ignore_client_abort nginx
        // takes the EOF for an abort and drops the proxied request (499, nothing sent).
        for _ in 0..<10 {
            let c = try RawClient(port: try nginxPort())
            c.send("GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            c.shutdownWrite()
            let r = c.readResponse()
            XCTAssertEqual(r?.status, 200)
            XCTAssertTrue(r?.body.contains("\"ok\"") ?? false, r?.body ?? "no answer")
        }
    }

    func testInvalidUTF8PathsGet400() throws {
        let raw: [[UInt8]] = [
            [0xff, 0xfe], // never valid
            [0x63, 0x61, 0x66, 0xc3], // "caf" + a truncated sequence
        ]
        for bytes in raw {
            let r = try answer([UInt8]("GET /".utf8) + bytes + [UInt8](" HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8))
            XCTAssertEqual(r?.status, 400, "raw path bytes \(bytes)")
        }
        for path in ["/%FF", "/%C0%AF", "/engine/%ED%A0%80", "/transaction/getWalletBalance%FE", "/a%0Ab"] {
            let r = try answer(Array("GET \(path) HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8))
            XCTAssertEqual(r?.status, 400, path)
            XCTAssertEqual(r?.headers["content-type"], "application/json", path)
        }
        // Valid UTF-8, percent-encoded, passes the check (and, no such file, is a 404).
        XCTAssertEqual(try answer(Array("GET /caf%C3%A9 HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8))?.status, 404)
    }

    func testErrorsNginxMakesItselfAreJSON() throws {
        // Requests nginx refuses before any upstream sees them. A request line that does not
        // parse has no URI: sent to a named location it got a 500 in HTML.
        let big = String(repeating: "a", count: 9000)
        let cases: [(String, Int)] = [
            ("GARBAGE\r\n\r\n", 400),
            ("GET x HTTP/1.1\r\nHost: localhost\r\n\r\n", 400),
            ("get /transaction/getWalletBalance HTTP/1.1\r\nHost: localhost\r\n\r\n", 400),
            ("CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n", 400),
            ("GET / HTTP/2.0\r\nHost: localhost\r\n\r\n", 505),
            ("GET /transaction/getWalletBalance?\(big) HTTP/1.1\r\nHost: localhost\r\n\r\n", 414),
            ("GET /transaction/getWalletBalance HTTP/1.1\r\nHost: localhost\r\ntoken: \(big)\r\n\r\n", 400),
            ("TRACE /transaction/getWalletBalance HTTP/1.1\r\nHost: localhost\r\n\r\n", 405),
            ("POST /engine/stream HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n", 405),
            ("POST /transaction/addMoneyToWallet HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
            ("POST /transaction/addMoneyToWallet HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1048577\r\n\r\n", 413),
            // Paths that are not the API's: a prefix it does not have, 2024's un-prefixed names.
            ("GET /api/transaction/getWalletBalance HTTP/1.1\r\nHost: localhost\r\n\r\n", 404),
            ("GET /getWalletBalance HTTP/1.1\r\nHost: localhost\r\n\r\n", 404),
            ("POST /login HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\n\r\n{}", 404),
        ]
        for (request, status) in cases {
            let r = try answer(Array(request.utf8))
            let label = String(request.prefix(50))
            XCTAssertEqual(r?.status, status, label)
            XCTAssertEqual(r?.headers["content-type"], "application/json", label)
            XCTAssertTrue(
                r?.body.hasPrefix(#"{"success":false,"data":{"error":"#) ?? false, "\(label): \(r?.body ?? "no answer")"
            )
        }
    }

    func testSlowHeaderClientIsDroppedWithinTenSeconds() throws {
        // The head never ends: nginx's client_header_timeout (10 s, not the 60 s default) closes it.
        let c = try RawClient(port: try nginxPort(), timeoutMillis: 20_000)
        let started = Date()
        c.send("GET /health HTTP/1.1\r\nHost: localhost\r\n")
        XCTAssertTrue(c.isClosedByPeer())
        let waited = Date().timeIntervalSince(started)
        XCTAssertLessThan(waited, 13, "nginx held a stalled client for \(waited) s")
    }

    func testRenderedConfigBoundsEveryClientTimeout() throws {
        let conf = try String(
            contentsOfFile: try TestEnv.require("DT_TEST_STATE") + "/nginx/nginx.conf", encoding: .utf8)
        for directive in ["client_header_timeout", "client_body_timeout", "send_timeout"] {
            let line = conf.split(separator: "\n").first {
                $0.trimmingCharacters(in: .whitespaces).hasPrefix(directive + " ")
            }
            let seconds = line.flatMap {
                Int($0.split(separator: " ").last?.trimmingCharacters(in: CharacterSet(charactersIn: "s;")) ?? "")
            }
            XCTAssertNotNil(seconds, "\(directive) not set")
            XCTAssertLessThanOrEqual(seconds ?? 99, 10, directive)
        }
        XCTAssertTrue(conf.contains("proxy_ignore_client_abort on;"))
    }
}
