import ServiceCore
import XCTest

/// Through the real nginx that scripts/test starts in front of the services.
final class NginxTests: XCTestCase {
    func nginx() throws -> Endpoint {
        let url = try TestEnv.require("DT_TEST_NGINX")
        guard let ep = Endpoint(url.replacingOccurrences(of: "http://", with: "")) else {
            throw HTTPError(0, "bad DT_TEST_NGINX \(url)")
        }
        return ep
    }

    func testBenchmarkRoutesAreNotPublicInProductionNginx() throws {
        let ep = try nginx()
        for (method, path) in [
            ("GET", "/hello/"), ("POST", "/hello/echo"), ("GET", "/hello/echo"), ("GET", "/bench/nginx"),
        ] {
            let r = try HTTPClient.shared.request(
                ep, method: method, path: path, body: method == "POST" ? Array("ping".utf8) : [])
            XCTAssertEqual(r.status, 404, "\(method) \(path)")
            XCTAssertNotEqual(
                String(decoding: r.body, as: UTF8.self), "ping", "\(method) \(path) reached the hello service")
        }
    }

    func testStackHealthAnswersThroughNginx() throws {
        let r = try HTTPClient.shared.request(try nginx(), method: "GET", path: "/health")
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(try r.json()["status"]?.stringValue, "ok")
    }

    func testNginxRejectsOversizedBody() throws {
        let r = try HTTPClient.shared.request(
            try nginx(), method: "POST", path: "/engine/placeStockOrder",
            body: [UInt8](repeating: 65, count: 2 * 1024 * 1024))
        XCTAssertEqual(r.status, 413)
    }
}
