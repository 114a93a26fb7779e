import Foundation
import XCTest

@testable import ServiceCore

/// A database restart or failover must look like an outage to clients (503 JSON, never success,
/// never 500) and must not make every request wait out its own failed connect.
final class PostgresUnavailableTests: XCTestCase {
    /// The test stack's PostgreSQL port (node 0) and password; skips without one.
    static func testPostgres() throws -> (port: Int, password: String) {
        let env = ProcessInfo.processInfo.environment
        guard let test = env["DT_TEST_PG"], let password = env["DT_TEST_PG_PASSWORD"],
            let portItem = test.split(separator: " ").first(where: { $0.hasPrefix("port=") }),
            let port = portItem.dropFirst(5).split(separator: ",").first.flatMap({ Int($0) })
        else {
            throw XCTSkip("needs the test stack's PostgreSQL (scripts/test)")
        }
        return (port, password)
    }

    func testUnavailableDatabaseIs503WithRetryAfterAndOtherErrorsStay500() throws {
        let s = try TestServer { r in
            r.post("/lost", mode: .blocking) { _, _ in
                throw PGError(sqlState: "", message: "server closed the connection unexpectedly")
            }
            r.post("/standby", mode: .blocking) { _, _ in
                throw PGError(sqlState: "25006", message: "cannot execute INSERT in a read-only transaction")
            }
            r.post("/shutdown", mode: .blocking) { _, _ in
                throw PGError(sqlState: "57P01", message: "terminating connection")
            }
            r.post("/bug", mode: .blocking) { _, _ in
                throw PGError(sqlState: "42P01", message: "relation does not exist")
            }
        }
        defer { s.stop() }
        for path in ["/lost", "/standby", "/shutdown"] {
            let c = try RawClient(port: s.port)
            c.send("POST \(path) HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
            let r = try XCTUnwrap(c.readResponse(), path)
            XCTAssertEqual(r.status, 503, path)
            XCTAssertEqual(r.headers["retry-after"], "1", path)
            let body = try JSON.parse(Array(r.body.utf8))
            XCTAssertEqual(body["success"], .bool(false), path)
            XCTAssertTrue(
                body["data"]?["error"]?.stringValue?.contains("may or may not have been recorded") == true,
                "\(path): \(r.body)")
        }
        let c = try RawClient(port: s.port)
        c.send("POST /bug HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        XCTAssertEqual(c.readResponse()?.status, 500, "a statement the server refused is no outage")
    }

    func testAfterAFailedConnectTheWorkerFailsFastInsteadOfConnectingAgain() throws {
        // Port 1 on loopback: nothing listens, the connect is refused at once.
        let ctx = WorkerContext(
            config: ServiceConfig(name: "t", environment: ["DT_PG": "host=127.0.0.1 port=1 dbname=x user=y"]), index: 0)
        XCTAssertThrowsError(try ctx.postgres()) { error in
            let e = error as? PGError
            XCTAssertEqual(e?.isUnavailable, true, "\(error)")
            XCTAssertFalse(e?.message.hasPrefix("reconnecting") ?? true, "the first call really connects: \(error)")
        }
        XCTAssertThrowsError(try ctx.postgres()) { error in
            let e = error as? PGError
            XCTAssertEqual(e?.isUnavailable, true)
            XCTAssertTrue(
                e?.message.hasPrefix("reconnecting") ?? false, "within the pause no new connect is tried: \(error)")
        }
    }

    /// The multi-host form services get with standbys: a dead first node (the killed primary) is
    /// skipped and the next one that takes writes is used, through the real test PostgreSQL.
    func testMultiHostConnInfoSkipsADeadNodeAndFindsTheWritableOne() throws {
        let (port, password) = try Self.testPostgres()
        let ctx = WorkerContext(
            config: ServiceConfig(
                name: "t",
                environment: [
                    "DT_PG": "host=127.0.0.1,127.0.0.1 port=1,\(port) dbname=daytrade user=daytrade",
                    "DT_PG_PASSWORD": password,
                ]), index: 0)
        let db = try ctx.postgres()
        XCTAssertEqual(try db.query("SELECT inet_server_port()").int(0, 0), port)
        XCTAssertEqual(
            try db.query("SELECT current_setting('transaction_read_only')").string(0, 0), "off",
            "target_session_attrs=read-write picked a node that takes writes")
    }

    /// After one connection found the writable node second in the list, the next ones try it
    /// first: a dead old primary named first is not paid for on every new connection.
    func testTheHostThatTookWritesIsTriedFirstNextTime() throws {
        let (port, password) = try Self.testPostgres()
        // A conninfo of its own (the memory is per conninfo): port 1 refuses, `port` takes writes.
        let connInfo =
            "host=127.0.0.1,127.0.0.1,127.0.0.1 port=1,\(port),2 dbname=daytrade user=daytrade "
            + "application_name=host-order-\(getpid()) password=\(password)"
        XCTAssertEqual(PGHostOrder.order(connInfo), [0, 1, 2], "before any connection: the given order")
        let first = try PGConnection(connInfo)
        XCTAssertEqual(try first.query("SELECT inet_server_port()").int(0, 0), port)
        XCTAssertEqual(PGHostOrder.order(connInfo), [1, 0, 2], "the host that took writes first, the rest in order")
        let second = try PGConnection(connInfo)
        XCTAssertEqual(try second.query("SELECT inet_server_port()").int(0, 0), port)
        XCTAssertEqual(PGHostOrder.order(connInfo), [1, 0, 2])
        XCTAssertEqual(PGHostOrder.order("host=a port=1"), [0], "one host: nothing to reorder")
    }
}
