import ServiceCore
import XCTest

/// Through the real nginx that scripts/test starts in front of the services.
final class NginxTests: XCTestCase {
    private func nginx() throws -> Endpoint {
        let url = try TestEnv.require("DT_TEST_NGINX")
        guard let ep = Endpoint(url.replacingOccurrences(of: "http://", with: "")) else { throw HTTPError(0, "bad DT_TEST_NGINX \(url)") }
        return ep
    }

    func testHelloServiceBehindNginx() throws {
        let ep = try nginx()
        for _ in 0..<20 {
            let r = try HTTPClient.shared.request(ep, method: "GET", path: "/hello/")
            XCTAssertEqual(r.status, 200)
            XCTAssertEqual(String(decoding: r.body, as: UTF8.self), "Hello, World!")
        }
        let echo = try HTTPClient.shared.request(ep, method: "POST", path: "/hello/echo", body: Array("ping".utf8))
        XCTAssertEqual(String(decoding: echo.body, as: UTF8.self), "ping")
    }

    func testStackHealthAnswersThroughNginx() throws {
        let r = try HTTPClient.shared.request(try nginx(), method: "GET", path: "/health")
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(try r.json()["status"]?.stringValue, "ok")
    }

    func testNginxRejectsOversizedBody() throws {
        let r = try HTTPClient.shared.request(try nginx(), method: "POST", path: "/hello/echo",
                                              body: [UInt8](repeating: 65, count: 2 * 1024 * 1024))
        XCTAssertEqual(r.status, 413)
    }
}
