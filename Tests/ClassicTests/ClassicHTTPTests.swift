import Foundation
import Ledger
import ServiceCore
import XCTest

@testable import ClassicCore

/// The HTTP glue the services use: identity headers, JSON shapes, status codes, DUMPLOG as XML.
final class ClassicHTTPTests: ClassicTestCase {
    var ctx: WorkerContext!

    override func setUpWithError() throws {
        try super.setUpWithError()
        let env = [
            "DT_PG": TestEnv.value("DT_TEST_PG") ?? "", "DT_REDIS": TestEnv.value("DT_TEST_REDIS") ?? "",
            "DT_REDIS_PASSWORD": TestEnv.value("DT_TEST_REDIS_PASSWORD") ?? "",
        ]
        ctx = WorkerContext(config: ServiceConfig(name: "test", environment: env), index: 0)
    }

    /// The verified id the gateway would send for `name` (an id no user has when it is unknown).
    func idHeader(_ name: String) throws -> String {
        String(try LedgerOps.userId(db, name: name) ?? 9_000_000_000 + Int64.random(in: 0..<1_000_000))
    }

    func post(_ cmd: ClassicCommandName, as caller: String, role: String = "user", _ body: String) throws -> (
        Int, JSON?, HTTPResponse
    ) {
        let req = HTTPRequest(
            method: "POST", path: "/classic/\(cmd.rawValue)",
            headers: [("x-user-name", caller), ("x-user-role", role), ("x-user-id", try idHeader(caller))],
            body: Array(body.utf8))
        let r = try ClassicHTTP.handle(cmd, req, ctx, engine)
        return (r.status, try? JSON.parse(r.body), r)
    }

    func testSuccessAndErrorEnvelopes() throws {
        let u = newUserName()
        // registered, no account yet
        try db.query("INSERT INTO users (user_name, password_hash) VALUES ($1, '!test')", [u])
        let n = Int64.random(in: 1_000_000...900_000_000_000)
        let (s1, j1, _) = try post(.ADD, as: u, #"{"userid":"\#(u)","amount":"12.50","transactionNum":\#(n)}"#)
        XCTAssertEqual(s1, 200)
        XCTAssertEqual(j1?["success"], .bool(true))
        XCTAssertEqual(j1?["data"]?["cash"], .string("12.50"))
        XCTAssertEqual(j1?["data"]?["transactionNum"], .int(n))
        // Amount as a JSON number, and the userid defaulting to the caller.
        let (s2, j2, _) = try post(.ADD, as: u, #"{"amount":7.5}"#)
        XCTAssertEqual(s2, 200)
        XCTAssertEqual(j2?["data"]?["cash"], .string("20.00"))

        let (s3, j3, _) = try post(.BUY, as: u, #"{"userid":"\#(u)","stock":"ABC","amount":"-1"}"#)
        XCTAssertEqual(s3, 400)
        XCTAssertEqual(j3?["success"], .bool(false))
        XCTAssertEqual(j3?["data"]?["code"], .string("INVALID_ARGUMENT"))
        XCTAssertTrue(j3?["data"]?["error"]?.stringValue?.hasPrefix("INVALID_ARGUMENT: ") ?? false)

        let ghost = newUserName()
        let (s4, j4, _) = try post(.COMMIT_BUY, as: ghost, "{}")
        XCTAssertEqual(s4, 404)
        XCTAssertEqual(j4?["data"]?["code"], .string("UNKNOWN_USER"))

        let (s5, j5, _) = try post(.ADD, as: u, #"{"amount":"1.00","transactionNum":0}"#)
        XCTAssertEqual(s5, 400)
        XCTAssertEqual(j5?["data"]?["code"], .string("INVALID_ARGUMENT"))
        let (s6, _, _) = try post(.ADD, as: u, "not json")
        XCTAssertEqual(s6, 400)
        XCTAssertEqual(try account(u)?.cash, 2000)
    }

    func testOnlyAdminActsForOthers() throws {
        let u = try newUser(cash: 1000)
        let intruder = newUserName()
        let before = try log(u).count
        let (s, j, _) = try post(.ADD, as: intruder, #"{"userid":"\#(u)","amount":"5.00"}"#)
        XCTAssertEqual(s, 403)
        XCTAssertEqual(j?["data"]?["code"], .string("FORBIDDEN"))
        XCTAssertEqual(try log(u).count, before, "an impersonation attempt is not the user's command")
        XCTAssertEqual(try account(u)?.cash, 1000)
        let (sa, _, _) = try post(.ADD, as: "admin", role: "admin", #"{"userid":"\#(u)","amount":"5.00"}"#)
        XCTAssertEqual(sa, 200)
        XCTAssertEqual(try account(u)?.cash, 1500)
        let noIdentity = HTTPRequest(
            method: "POST", path: "/classic/ADD", body: Array(#"{"userid":"x","amount":"1"}"#.utf8))
        XCTAssertEqual(try ClassicHTTP.handle(.ADD, noIdentity, ctx, engine).status, 403)
    }

    func testDumplogAnswersXMLAndGuardsTheWholeSystemForm() throws {
        let u = try newUser(cash: 1000)
        let (s, _, r) = try post(.DUMPLOG, as: u, #"{"userid":"\#(u)","filename":"./my_log.xml"}"#)
        XCTAssertEqual(s, 200)
        XCTAssertEqual(r.header("Content-Type"), "application/xml")
        XCTAssertEqual(r.header("Content-Disposition"), "attachment; filename=\"my_log.xml\"")
        // The XML comes as a temporary file the server streams and then deletes.
        let file = try XCTUnwrap(r.bodyFile)
        defer { unlink(file.path) }
        XCTAssertTrue(file.deleteAfterSend)
        let xml = try String(contentsOfFile: file.path, encoding: .utf8)
        XCTAssertEqual(xml.utf8.count, file.length)
        XCTAssertTrue(xml.hasPrefix("<?xml"))
        XCTAssertTrue(xml.contains("<command>ADD</command>"))
        let (sw, jw, _) = try post(.DUMPLOG, as: u, #"{"filename":"./testLOG"}"#)
        XCTAssertEqual(sw, 403)
        XCTAssertEqual(jw?["data"]?["code"], .string("FORBIDDEN"))
    }

    func testRecentTransactionsAndStats() throws {
        let u = try newUser(cash: 1000)
        try ok(.DISPLAY_SUMMARY, u)
        let req = HTTPRequest(
            method: "POST", path: "/classic/RECENT_TRANSACTIONS",
            headers: [("x-user-name", u), ("x-user-id", try idHeader(u))],
            body: Array(#"{"limit":2}"#.utf8))
        let r = try ClassicHTTP.recentTransactions(req, ctx)
        let j = try JSON.parse(r.body)
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(j["data"]?["entries"]?.arrayValue?.count, 2)
        XCTAssertEqual(j["data"]?["entries"]?[0]?["command"], .string("DISPLAY_SUMMARY"))
        XCTAssertEqual(ClassicHTTP.ratioText(1, 3), "0.3333")
        XCTAssertEqual(ClassicHTTP.ratioText(3, 3), "1.0000")
    }
}
