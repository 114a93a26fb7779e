import Foundation
import Ledger
import ServiceCore
import XCTest

/// Durability when the database itself dies: classic ADDs stream in from several threads through
/// nginx, PostgreSQL's postmaster gets `kill -9`, scripts/up brings it back on the same data, and
/// every ADD that was answered 200 must still be in the ledger (cash and audit log), with money
/// conserved. Requests that failed while it was down may or may not have committed; none may be
/// half-applied.
final class PostgresCrashTests: XCTestCase {
    func testKillDashNineOfPostgresUnderLoadLosesNothingAnswered() throws {
        let api = try PTClient()
        guard !api.direct else { throw XCTSkip("needs the whole stack behind nginx") }
        let users = try (0..<4).map { _ in try api.newUser("pgk") }
        let base = Int64.random(in: 1_000_000_000...2_000_000_000)
        let stop = PTBox(false)
        let answered = PTBox<[String: [Int64]]>([:])
        let sent = PTBox<[String: Int]>([:])
        let group = DispatchGroup()
        for (t, u) in users.enumerated() {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                var i: Int64 = 0
                while !stop.value {
                    i += 1
                    let txn = base + Int64(t) * 10_000_000 + i
                    sent.update { $0[u.name, default: 0] += 1 }
                    let r = api.request(
                        "POST", "/classic/ADD", token: u.token,
                        body: #"{"userid":"\#(u.name)","amount":"1.00","transactionNum":\#(txn)}"#,
                        timeoutMillis: 10_000)
                    if r.status == 200 {
                        answered.update { $0[u.name, default: []].append(txn) }
                    } else {
                        usleep(20_000)
                    } // database down: do not spin
                }
            }
        }
        let deadline = Date().addingTimeInterval(30)
        while answered.value.values.reduce(0, { $0 + $1.count }) < 200 && Date() < deadline { usleep(10_000) }
        XCTAssertGreaterThanOrEqual(answered.value.values.reduce(0, { $0 + $1.count }), 200, "load never got going")
        try killPostgres()
        usleep(500_000)
        stop.update { $0 = true }
        group.wait()
        try PTStack.upAgain()

        // Services reconnect by themselves: wait until an ADD goes through again.
        let probe = users[0]
        var ok = false
        let until = Date().addingTimeInterval(30)
        while !ok && Date() < until {
            ok =
                api.request(
                    "POST", "/classic/ADD", token: probe.token,
                    body: #"{"userid":"\#(probe.name)","amount":"0.01"}"#
                ).status == 200
            if !ok { usleep(100_000) }
        }
        XCTAssertTrue(ok, "classic ADD served again after the restart")

        let db = try PTEnv.pg()
        for u in users {
            let acked = answered.value[u.name] ?? []
            let id = try XCTUnwrap(try LedgerOps.userId(db, name: u.name))
            let logged = try db.query(
                """
                SELECT txn FROM classic_log WHERE username = $1 AND kind = 'accountTransaction' AND action = 'add'
                """, [u.name])
            let present = Set((0..<logged.count).compactMap { logged.int64($0, 0) })
            let missing = acked.filter { !present.contains($0) }
            XCTAssertTrue(
                missing.isEmpty,
                "\(u.name): \(missing.count) answered ADDs missing from the log, e.g. \(missing.prefix(3))")
            let cash = try XCTUnwrap(
                try db.query("SELECT cash_cents FROM accounts WHERE user_id = $1", [id]).int64(0, 0))
            let loggedCents = try XCTUnwrap(
                try db.query(
                    """
                    SELECT COALESCE(SUM(funds_cents), 0) FROM classic_log
                    WHERE username = $1 AND kind = 'accountTransaction' AND action = 'add'
                    """, [u.name]
                ).int64(0, 0))
            // Every logged add moved exactly its amount into the account, and nothing else did.
            XCTAssertEqual(cash, loggedCents, "\(u.name): cash equals the logged adds")
            let ours = present.filter { $0 >= base }
            XCTAssertGreaterThanOrEqual(ours.count, acked.count)
            XCTAssertLessThanOrEqual(ours.count, sent.value[u.name] ?? 0)
        }
        try PTLedger.conservation()
    }

    private func killPostgres() throws {
        let state = try PTEnv.require("DT_TEST_STATE")
        let dataDir =
            (try? String(contentsOfFile: state + "/pg.location", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? state + "/pg"
        try PTStack.kill(pidFile: dataDir + "/postmaster.pid")
    }
}
