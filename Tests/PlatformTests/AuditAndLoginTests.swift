import Foundation
import Ledger
import ServiceCore
import XCTest

/// Audit-log fields a client chooses are bounded, and logins are throttled per account.
final class AuditAndLoginTests: XCTestCase {
    private func classic(_ ep: Endpoint, _ token: String, _ command: String, _ fields: [(String, JSON)]) throws
        -> EdgeResponse
    {
        try EdgeHTTP.call(
            ep, "POST", "/classic/" + command, headers: [("token", token)], body: EdgeHTTP.json(.object(fields)))
    }

    func testFilenameIsBoundedAndLoggedOnlyForDumplog() throws {
        let ep = try EdgeEnv.nginx()
        let (_, token) = try EdgeHTTP.newUser(ep, prefix: "afn")
        let long = try classic(ep, token, "DUMPLOG", [("filename", .string(String(repeating: "f", count: 256)))])
        XCTAssertEqual(long.status, 400, long.text)
        let odd = try classic(ep, token, "DUMPLOG", [("filename", .string("log<script>"))])
        XCTAssertEqual(odd.status, 400, odd.text)
        let db = try PTEnv.pg()
        let add = try classic(
            ep, token, "ADD",
            [("amount", .string("1.00")), ("filename", .string(String(repeating: "x", count: 100_000)))])
        XCTAssertEqual(add.status, 200, "a filename on another command is ignored")
        let txn = try XCTUnwrap(add.json?["data"]?["transactionNum"]?.int64Value)
        XCTAssertEqual(
            try db.query("SELECT count(*) FROM classic_log WHERE txn = $1 AND filename IS NOT NULL", [txn]).int(0, 0),
            0,
            "and not logged")
    }

    func testAClientTransactionNumBelongsToItsFirstUser() throws {
        let ep = try EdgeEnv.nginx()
        let (alice, aliceToken) = try EdgeHTTP.newUser(ep, prefix: "atA")
        let (_, bobToken) = try EdgeHTTP.newUser(ep, prefix: "atB")
        let n = Int64.random(in: 100_000_000...900_000_000_000)
        XCTAssertEqual(
            try classic(ep, aliceToken, "ADD", [("amount", .string("1.00")), ("transactionNum", .int(n))]).status, 200)
        let stolen = try classic(ep, bobToken, "ADD", [("amount", .string("1.00")), ("transactionNum", .int(n))])
        XCTAssertEqual(stolen.status, 400, stolen.text)
        XCTAssertEqual(
            try classic(ep, aliceToken, "ADD", [("amount", .string("1.00")), ("transactionNum", .int(n))]).status, 200,
            "its owner may use it again")
        let db = try PTEnv.pg()
        XCTAssertEqual(
            try db.query("SELECT array_agg(DISTINCT username) FROM classic_log WHERE txn = $1", [n]).string(0, 0),
            "{\(alice)}", "only alice's entries carry the number")
        let huge = try classic(
            ep, bobToken, "ADD", [("amount", .string("1.00")), ("transactionNum", .int(1_000_000_000_000))])
        XCTAssertEqual(huge.status, 400, "server-range numbers are not for clients: \(huge.text)")
        let own = try classic(ep, bobToken, "ADD", [("amount", .string("1.00"))])
        XCTAssertGreaterThan(
            try XCTUnwrap(own.json?["data"]?["transactionNum"]?.int64Value), 999_999_999_999,
            "numbers the server assigns never meet a client's")
    }

    func testLoginsBackOffPerAccountAfterRepeatedFailures() throws {
        let ep = try EdgeEnv.nginx()
        let user = EdgeEnv.uniqueName("thr")
        XCTAssertEqual(try EdgeHTTP.register(ep, user, "the-right-one").status, 200)
        // The course plan's pattern: one wrong password, then the right one at once.
        XCTAssertEqual(try EdgeHTTP.login(ep, user, "wrong").status, 400)
        XCTAssertEqual(try EdgeHTTP.login(ep, user, "the-right-one").status, 200)
        for _ in 0..<5 { XCTAssertEqual(try EdgeHTTP.login(ep, user, "wrong").status, 400) }
        let blocked = try EdgeHTTP.login(ep, user, "the-right-one")
        XCTAssertEqual(blocked.status, 429, "blocked even with the right password: \(blocked.text)")
        let wait = try XCTUnwrap(blocked.header("retry-after").flatMap { Int($0) })
        XCTAssertTrue((1...2).contains(wait), "first back-off is about a second: \(wait)")
        // Another account is not affected.
        let other = EdgeEnv.uniqueName("thr")
        XCTAssertEqual(try EdgeHTTP.register(ep, other, "pw-other-1").status, 200)
        XCTAssertEqual(try EdgeHTTP.login(ep, other, "pw-other-1").status, 200)
        // After the announced wait the right password works again (a real deadline, not a guess).
        let deadline = Date().addingTimeInterval(Double(wait) + 5)
        var status = 429
        while status == 429 && Date() < deadline {
            usleep(250_000)
            status = try EdgeHTTP.login(ep, user, "the-right-one").status
        }
        XCTAssertEqual(status, 200)
    }
}
