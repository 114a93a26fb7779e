import Foundation
import ServiceCore
import XCTest

final class HTTPClientTests: XCTestCase {
    func testKeepAliveReuseAndTimeout() throws {
        let s = try TestServer { r in
            r.post("/echo", mode: .blocking) { req, _ in
                HTTPResponse(status: 201, headers: [("X-Seen", req.header("x-a") ?? "")], body: req.body)
            }
            r.get("/sleep", mode: .blocking) { _, _ in
                usleep(600_000)
                return .text("late")
            }
        }
        defer { s.stop() }
        let client = HTTPClient()
        let ep = Endpoint(host: "127.0.0.1", port: s.port)
        for i in 0..<20 {
            let r = try client.request(
                ep, method: "POST", path: "/echo", headers: [("X-A", "v\(i)")], body: Array("b\(i)".utf8))
            XCTAssertEqual(r.status, 201)
            XCTAssertEqual(String(decoding: r.body, as: UTF8.self), "b\(i)")
            XCTAssertEqual(r.header("x-seen"), "v\(i)")
        }
        // All twenty calls went over one pooled connection.
        XCTAssertTrue(s.server.metrics.render().contains("open_connections 1"), s.server.metrics.render())
        XCTAssertThrowsError(try client.request(ep, method: "GET", path: "/sleep", timeoutMillis: 100)) { error in
            guard case HTTPClientError.timeout = error else { return XCTFail("expected timeout, got \(error)") }
        }
        XCTAssertEqual(try client.request(ep, method: "GET", path: "/sleep", timeoutMillis: 3000).status, 200)
        client.closeIdle()
    }

    func testClientSendsExactlyOneHost() throws {
        // Every service now refuses an HTTP/1.1 request without one Host (400).
        let s = try TestServer { r in
            r.get("/host", mode: .inline) { req, _ in
                .text(req.headers.filter { $0.name == "host" }.map(\.value).joined(separator: "|"))
            }
        }
        defer { s.stop() }
        let r = try HTTPClient().request(Endpoint(host: "127.0.0.1", port: s.port), method: "GET", path: "/host")
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(String(decoding: r.body, as: UTF8.self), "127.0.0.1:\(s.port)")
    }

    /// `unix:/path` names a Unix-domain socket (the local stack's gateway upstreams and Redis):
    /// the client connects there, keeps the connection alive, and sends `Host: localhost`.
    func testAUnixSocketEndpointIsReachedLikeATCPOne() throws {
        let path = FileManager.default.temporaryDirectory.path + "/dt-\(UUID().uuidString.prefix(8)).sock"
        var options = HTTPServerOptions()
        options.unixPath = path
        let s = try TestServer(options: options) { r in
            r.get("/host", mode: .inline) { req, _ in .text(req.header("host") ?? "") }
        }
        defer { s.stop() }
        let ep = try XCTUnwrap(Endpoint("unix:\(path)"))
        XCTAssertTrue(ep.isUnixSocket)
        XCTAssertEqual(ep.host, path)
        XCTAssertEqual(ep.description, "unix:\(path)")
        XCTAssertEqual(Endpoint(ep.description), ep)
        XCTAssertFalse(try XCTUnwrap(Endpoint("127.0.0.1:80")).isUnixSocket)
        let client = HTTPClient()
        for _ in 0..<5 {
            let r = try client.request(ep, method: "GET", path: "/host")
            XCTAssertEqual(r.status, 200)
            XCTAssertEqual(String(decoding: r.body, as: UTF8.self), "localhost")
        }
        XCTAssertTrue(s.server.metrics.render().contains("open_connections 1"), "one pooled connection")
        XCTAssertThrowsError(try client.request(Endpoint(host: path + ".gone", port: 0), method: "GET", path: "/host"))
    }

    func testHeadResponsesCarryNoBody() throws {
        let s = try TestServer { r in r.get("/x", mode: .inline) { _, _ in .text("xyz") } }
        defer { s.stop() }
        let client = HTTPClient()
        let ep = Endpoint(host: "127.0.0.1", port: s.port)
        let head = try client.request(ep, method: "HEAD", path: "/x", timeoutMillis: 2000)
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(head.header("content-length"), "3")
        XCTAssertTrue(head.body.isEmpty)
        // The pooled connection is still in step: the next response is read whole.
        XCTAssertEqual(String(decoding: try client.request(ep, method: "GET", path: "/x").body, as: UTF8.self), "xyz")
    }

    func testLargeBodiesCanBeSpooledToAFile() throws {
        let payload = (0..<(2 * 1024 * 1024 + 17)).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let s = try TestServer { r in
            r.get("/big", mode: .blocking) { _, _ in HTTPResponse(status: 200, body: payload) }
        }
        defer { s.stop() }
        let ep = Endpoint(host: "127.0.0.1", port: s.port)
        let r = try HTTPClient().request(ep, method: "GET", path: "/big", spoolAbove: 1024 * 1024)
        let file = try XCTUnwrap(r.bodyFile)
        defer { unlink(file.path) }
        XCTAssertTrue(r.body.isEmpty)
        XCTAssertEqual(file.length, payload.count)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: file.path)), Data(payload))
        // Below the threshold the body stays in memory.
        XCTAssertNil(try HTTPClient().request(ep, method: "GET", path: "/big", spoolAbove: 4 * 1024 * 1024).bodyFile)
    }

    func testConnectFailureIsReported() {
        XCTAssertThrowsError(try HTTPClient().request(Endpoint(host: "127.0.0.1", port: 1), method: "GET", path: "/")) {
            error in
            guard case HTTPClientError.connect = error else { return XCTFail("expected connect error, got \(error)") }
        }
    }

    func testReconnectsAfterServerClosedPooledSocket() throws {
        var opts = HTTPServerOptions()
        opts.idleTimeoutMillis = 200
        let s = try TestServer(options: opts) { r in r.get("/x", mode: .inline) { _, _ in .text("x") } }
        defer { s.stop() }
        let client = HTTPClient()
        let ep = Endpoint(host: "127.0.0.1", port: s.port)
        XCTAssertEqual(try client.request(ep, method: "GET", path: "/x").status, 200)
        usleep(1_200_000) // the server's idle timer has closed the pooled socket
        XCTAssertEqual(try client.request(ep, method: "GET", path: "/x").status, 200)
    }
}
