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

    func testFieldsACommandDoesNotTakeAreNeitherReadNorLogged() throws {
        let ep = try EdgeEnv.nginx()
        let (user, token) = try EdgeHTTP.newUser(ep, prefix: "afx")
        XCTAssertEqual(
            try classic(ep, token, "ADD", [("amount", .string("5.00")), ("stock", .string("ABC"))]).status, 200)
        let db = try PTEnv.pg()
        for (command, status) in [("COMMIT_BUY", 400), ("DISPLAY_SUMMARY", 200), ("CANCEL_SELL", 400)] {
            let n = Int64.random(in: 100_000_000...900_000_000_000)
            let r = try classic(
                ep, token, command,
                [("amount", .string("5.00")), ("stock", .string("ABC")), ("transactionNum", .int(n))])
            XCTAssertEqual(r.status, status, "\(command): \(r.text)")
            let rows = try db.query(
                "SELECT count(*), count(stock), count(funds_cents) FROM classic_log WHERE txn = $1 AND username = $2",
                [n, user])
            XCTAssertGreaterThan(rows.int(0, 0) ?? 0, 0, "\(command) was logged")
            XCTAssertEqual(rows.int(0, 1), 0, "\(command) takes no stock")
            XCTAssertEqual(rows.int(0, 2), 0, "\(command) takes no amount")
        }
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

    func testAClientTransactionNumLabelsItsUsersCommandAndTwoUsersMayShareOne() throws {
        // Two workloads replayed on one ledger both number their lines from [1], with other users.
        let ep = try EdgeEnv.nginx()
        let (alice, aliceToken) = try EdgeHTTP.newUser(ep, prefix: "atA")
        let (bob, bobToken) = try EdgeHTTP.newUser(ep, prefix: "atB")
        let n = Int64.random(in: 100_000_000...900_000_000_000)
        for token in [aliceToken, bobToken, aliceToken] {
            let r = try classic(ep, token, "ADD", [("amount", .string("1.00")), ("transactionNum", .int(n))])
            XCTAssertEqual(r.status, 200, r.text)
            XCTAssertEqual(r.json?["data"]?["transactionNum"]?.int64Value, n)
        }
        let db = try PTEnv.pg()
        let r = try db.query(
            "SELECT username, count(*) FROM classic_log WHERE txn = $1 AND kind = 'userCommand' GROUP BY username ORDER BY count(*) DESC",
            [n])
        XCTAssertEqual(r.count, 2)
        XCTAssertEqual(r.string(0, 0), alice)
        XCTAssertEqual(r.int(0, 1), 2)
        XCTAssertEqual(r.string(1, 0), bob)
        XCTAssertEqual(r.int(1, 1), 1)
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
