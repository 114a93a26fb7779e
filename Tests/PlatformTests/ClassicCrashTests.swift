import Foundation
import Ledger
import ServiceCore
import XCTest

/// Durability of the batched classic path: users replay ADD / BUY / COMMIT_BUY / SELL /
/// COMMIT_SELL / CANCEL_BUY through nginx while `buy`, then `sell`, then PostgreSQL get `kill -9`
/// (scripts/up restarts each). Every command answered 200 must be in the user's DUMPLOG, each
/// user's cash must equal the DUMPLOG's account transactions, and money is conserved. Commands
/// that failed while something was down may or may not have committed; none may be half-applied.
final class ClassicCrashTests: XCTestCase {
    struct Sent: Hashable {
        let txn: Int64
        let command: String
    }

    func testKillDashNineOfBuySellAndPostgresLosesNothingAnswered() throws {
        let api = try PTClient()
        guard !api.direct else { throw XCTSkip("needs the whole stack behind nginx") }
        let users = try (0..<4).map { _ in try api.newUser("ck") }
        for u in users { // QUOTE needs an account
            let r = api.request("POST", "/classic/ADD", token: u.token, body: #"{"amount":"1000.00"}"#)
            XCTAssertEqual(r.status, 200, "first ADD: \(r.body)")
        }
        // A symbol the quote server prices at most $50, so every BUY and SELL of the cycle trades.
        var symbol = ""
        for letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ".shuffled() {
            let q = api.request("POST", "/classic/QUOTE", token: users[0].token, body: #"{"stock":"CK\#(letter)"}"#)
            if let p = q.path("$.data.price").flatMap({ Money.parseCents($0) }), p <= 5_000 {
                symbol = "CK\(letter)"
                break
            }
        }
        XCTAssertFalse(symbol.isEmpty, "a symbol priced at most $50")
        let stock = symbol
        let base = Int64.random(in: 3_000_000_000...4_000_000_000)
        let stop = PTBox(false)
        let answered = PTBox<[String: [Sent]]>([:])
        let group = DispatchGroup()
        // Each user: ADD, then BUY + COMMIT_BUY, SELL + COMMIT_SELL, BUY + CANCEL_BUY, round after round.
        let cycle: [(String, String?)] = [
            ("ADD", "1000.00"), ("BUY", "300.00"), ("COMMIT_BUY", nil), ("SELL", "100.00"),
            ("COMMIT_SELL", nil), ("BUY", "100.00"), ("CANCEL_BUY", nil),
        ]
        for (t, u) in users.enumerated() {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                var i: Int64 = 0
                while !stop.value {
                    for (command, amount) in cycle where !stop.value {
                        i += 1
                        let txn = base + Int64(t) * 10_000_000 + i
                        var body = #"{"userid":"\#(u.name)","transactionNum":\#(txn)"#
                        if command != "ADD" && !command.hasPrefix("C") { body += #","stock":"\#(stock)""# }
                        if let amount { body += #","amount":"\#(amount)""# }
                        body += "}"
                        let r = api.request(
                            "POST", "/classic/\(command)", token: u.token, body: body, timeoutMillis: 10_000)
                        if r.status == 200 {
                            answered.update { $0[u.name, default: []].append(Sent(txn: txn, command: command)) }
                        } else if r.status >= 500 {
                            usleep(20_000) // something is down: do not spin
                        }
                    }
                }
            }
        }
        func answeredCount() -> Int { answered.value.values.reduce(0) { $0 + $1.count } }
        func waitForProgress(_ more: Int, _ what: String) {
            let target = answeredCount() + more
            let deadline = Date().addingTimeInterval(60)
            while answeredCount() < target && Date() < deadline { usleep(10_000) }
            XCTAssertGreaterThanOrEqual(answeredCount(), target, "load went on after \(what)")
        }
        waitForProgress(150, "start")
        for service in ["buy", "sell"] {
            try kill9(
                pidFile: try PTEnv.require("DT_TEST_STATE")
                    + "/pids/\(service)-\(try PTEnv.portBase() + (service == "buy" ? 8200 : 8300)).pid")
            usleep(300_000)
            try PTStack.upAgain()
            waitForProgress(100, "kill -9 \(service)")
        }
        let state = try PTEnv.require("DT_TEST_STATE")
        let dataDir =
            (try? String(contentsOfFile: state + "/pg.location", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? state + "/pg"
        try kill9(pidFile: dataDir + "/postmaster.pid")
        usleep(300_000)
        try PTStack.upAgain()
        waitForProgress(100, "kill -9 postgres")
        stop.update { $0 = true }
        group.wait()

        let all = answered.value.values.flatMap { $0 }
        XCTAssertGreaterThan(all.filter { $0.command == "COMMIT_BUY" }.count, 0, "buys went through")
        XCTAssertGreaterThan(all.filter { $0.command == "COMMIT_SELL" }.count, 0, "sells went through")

        let db = try PTEnv.pg()
        for u in users {
            let acked = answered.value[u.name] ?? []
            XCTAssertFalse(acked.isEmpty, "\(u.name) got answers")
            // The gateway's breakers may still be open from the outage: ask until served.
            var r = api.request(
                "POST", "/classic/DUMPLOG", token: u.token, body: #"{"userid":"\#(u.name)","filename":"ck.xml"}"#)
            let until = Date().addingTimeInterval(30)
            while r.status != 200 && Date() < until {
                usleep(200_000)
                r = api.request(
                    "POST", "/classic/DUMPLOG", token: u.token, body: #"{"userid":"\#(u.name)","filename":"ck.xml"}"#)
            }
            XCTAssertEqual(r.status, 200, "DUMPLOG of \(u.name): \(r.body.prefix(300))")
            let dump = Self.parse(r.body)
            let logged = Set(dump.commands)
            let missing = acked.filter { !logged.contains($0) }
            XCTAssertTrue(
                missing.isEmpty,
                "\(u.name): \(missing.count) answered commands missing from the DUMPLOG, e.g. \(missing.prefix(3))")
            XCTAssertTrue(
                dump.failed.isDisjoint(with: Set(acked.map(\.txn))),
                "\(u.name): an answered command logged an errorEvent")
            let id = try XCTUnwrap(try LedgerOps.userId(db, name: u.name))
            let cash = try db.query("SELECT cash_cents FROM accounts WHERE user_id = $1", [id]).int64(0, 0) ?? 0
            // Free cash moves only with a logged account transaction (ADD, BUY's hold, CANCEL_BUY's
            // release, COMMIT_SELL's proceeds), so it equals their sum.
            XCTAssertEqual(cash, dump.accountCents, "\(u.name): cash equals the DUMPLOG's account transactions")
        }
        try PTLedger.conservation()
    }

    private func kill9(pidFile: String) throws {
        try PTStack.kill(pidFile: pidFile)
    }

    /// The userCommands (transactionNum, command), the transactionNums with an errorEvent, and the
    /// sum of the accountTransactions (add − remove) of a DUMPLOG.
    static func parse(_ xml: String) -> (commands: [Sent], failed: Set<Int64>, accountCents: Int64) {
        func field(_ block: Substring, _ name: String) -> String? {
            guard let a = block.range(of: "<\(name)>"),
                let b = block.range(of: "</\(name)>", range: a.upperBound..<block.endIndex)
            else { return nil }
            return String(block[a.upperBound..<b.lowerBound]).trimmingCharacters(in: .whitespaces)
        }
        func blocks(_ kind: String) -> [Substring] {
            let parts = xml.components(separatedBy: "<\(kind)>")
            return parts[1...].compactMap { part -> Substring? in
                part.components(separatedBy: "</\(kind)>").first.map { Substring($0) }
            }
        }
        let commands = blocks("userCommand").compactMap { b -> Sent? in
            guard let t = field(b, "transactionNum").flatMap({ Int64($0) }), let c = field(b, "command") else {
                return nil
            }
            return Sent(txn: t, command: c)
        }
        let failed = Set(blocks("errorEvent").compactMap { field($0, "transactionNum").flatMap { Int64($0) } })
        var cents: Int64 = 0
        for b in blocks("accountTransaction") {
            guard let funds = field(b, "funds").flatMap({ Money.parseCents($0) }) else { continue }
            cents += field(b, "action") == "remove" ? -funds : funds
        }
        return (commands, failed, cents)
    }
}
