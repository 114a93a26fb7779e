import Foundation
import ServiceCore
import XCTest

/// The same protocol edge cases against every HTTP port of the running test stack (each service
/// binary as deployed), straight to the port, bypassing nginx.
final class ServicePortConformanceTests: XCTestCase {
    /// Every HTTP port of every instance (deploy/topology.json, which scripts/lib/services.sh also
    /// reads), before the stack's PORT_BASE shift.
    private static let servicePorts = Topology.all.flatMap(\.ports)

    private func ports() throws -> [Int] {
        guard let base = Int(try TestEnv.require("DT_TEST_PORT_BASE")) else {
            throw XCTSkip("DT_TEST_PORT_BASE is not a number")
        }
        return Self.servicePorts.map { $0 + base }
    }

    /// The answer to `bytes` on `port`: status, and whether the server then closed the connection.
    private func exchange(_ port: Int, _ bytes: [UInt8]) throws -> (status: Int?, closed: Bool) {
        let c = try RawClient(port: port, timeoutMillis: 3000)
        c.send(bytes)
        let r = c.readResponse()
        return (r?.status, r != nil && c.isClosedByPeer())
    }

    func testHTTP09AndTLSBytesGet400AndCloseOnEveryServicePort() throws {
        let tls: [UInt8] =
            [0x16, 0x03, 0x01, 0x00, 0xc8, 0x01, 0x00, 0x00, 0xc4, 0x03, 0x03] + [UInt8](repeating: 7, count: 40)
        for port in try ports() {
            let http09 = try exchange(port, Array("GET /health\r\n".utf8))
            XCTAssertEqual(http09.status, 400, "HTTP/0.9 line on port \(port)")
            XCTAssertTrue(http09.closed, "HTTP/0.9 line on port \(port): connection left open")
            let hello = try exchange(port, tls)
            XCTAssertEqual(hello.status, 400, "TLS ClientHello on port \(port)")
            XCTAssertTrue(hello.closed, "TLS ClientHello on port \(port): connection left open")
        }
    }

    func testHostIsRequiredOnceOnEveryServicePort() throws {
        for port in try ports() {
            XCTAssertEqual(
                try exchange(port, Array("GET /health HTTP/1.1\r\n\r\n".utf8)).status, 400, "no Host, port \(port)")
            XCTAssertEqual(
                try exchange(port, Array("GET /health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n".utf8)).status, 400,
                "two Hosts, port \(port)")
            let ok = try RawClient(port: port, timeoutMillis: 3000)
            ok.send("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            XCTAssertEqual(ok.readResponse()?.status, 200, "one Host, port \(port)")
        }
    }
}
