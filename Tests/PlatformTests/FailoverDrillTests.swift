import Foundation
import Ledger
import ServiceCore
import XCTest

/// The PostgreSQL failover drill, on a stack with two streaming standbys (quorum commit, ANY 1).
/// `scripts/drill-failover` starts such a stack and runs this test; in a plain `scripts/test` run
/// (no standbys) it is skipped. Deposits and orders stream in through nginx; the primary gets
/// `kill -9` (postmaster and backends), the standby with the most WAL is promoted, and the
/// services must find it by themselves (multi-host DT_PG) within 10 s. Then every acknowledged
/// deposit and order must be in the ledger, money and shares conserved, the engine's books equal
/// the ledger; the old primary rejoins as a standby, the other standby is killed, and commits
/// must go on. Lines starting with `DRILL` are the figures scripts/drill-failover prints.
final class FailoverDrillTests: XCTestCase {
    struct Acked: Sendable {
        var depositsCents: [Int64] = []
        var orderQuantities: [Int64] = []
    }

    func testPrimaryKilledUnderLoadLosesNothingAcknowledged() throws {
        guard let tool = PTEnv.values["DT_TEST_PG_FAILOVER"], !tool.isEmpty else {
            throw XCTSkip("needs a stack with standbys: scripts/drill-failover")
        }
        let api = try PTClient()
        let sellers = try (0..<2).map { _ in try api.newUser("fs") }
        let buyers = try (0..<2).map { _ in try api.newUser("fb") }
        let stock = try api.createStock(sellers[0].token)
        for u in sellers { api.grant(u.token, stock, 10_000_000) }
        for u in buyers { api.deposit(u.token, "1000000") }

        let stop = PTBox(false)
        let successes = PTBox(0)
        let acked = PTBox<[String: Acked]>([:])
        let statuses = PTBox<[Int: Int]>([:])
        let badBodies = PTBox<[String]>([])
        let group = DispatchGroup()
        for (n, u) in (sellers + buyers).enumerated() {
            let isSeller = n < sellers.count
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                var k: Int64 = 0
                while !stop.value {
                    k += 1
                    // Deposits and order quantities are unique per user, so each acknowledged one
                    // can be found in the ledger afterwards.
                    let r: PTResponse
                    if k % 2 == 0 {
                        r = api.request(
                            "POST", "/transaction/addMoneyToWallet", token: u.token, body: #"{"amount":\#(k)}"#,
                            timeoutMillis: 15_000)
                        if r.status == 200 {
                            acked.update { $0[u.name, default: Acked()].depositsCents.append(k * 100) }
                        }
                    } else {
                        r = api.order(
                            u.token, stock, buy: !isSeller, limit: isSeller ? 100 + k % 3 : (k % 4 == 1 ? nil : 99), k)
                        if r.status == 200 { acked.update { $0[u.name, default: Acked()].orderQuantities.append(k) } }
                    }
                    statuses.update { $0[r.status, default: 0] += 1 }
                    if r.status == 200 {
                        successes.update { $0 += 1 }
                    } else {
                        // An outage must answer at once, as JSON, and never as success.
                        if r.path("$.success") != "false" {
                            badBodies.update { $0.append("\(r.status) \(r.body.prefix(200))") }
                        }
                        usleep(20_000)
                    }
                }
            }
        }
        let warmup = Date().addingTimeInterval(30)
        while successes.value < 200 && Date() < warmup { usleep(10_000) }
        XCTAssertGreaterThanOrEqual(successes.value, 200, "load never got going")

        // --- kill the primary, promote the best standby -------------------------------------
        let before = successes.value
        let t0 = Date()
        let killed = try failover(tool, "kill-primary")
        let tKilled = Date()
        let promoted = try failover(tool, "promote")
        let tPromoted = Date()
        // The API answers again: a deposit through nginx succeeds.
        let probe = buyers[0]
        var served: Date?
        while served == nil && Date().timeIntervalSince(t0) < 30 {
            if api.request(
                "POST", "/transaction/addMoneyToWallet", token: probe.token, body: #"{"amount":0.01}"#,
                timeoutMillis: 5_000
            ).status == 200 {
                served = Date()
            } else {
                usleep(50_000)
            }
        }
        let answered = try XCTUnwrap(served, "the API never answered a deposit after the failover")
        let afterPromotion = successes.value
        while successes.value < afterPromotion + 200 && Date().timeIntervalSince(answered) < 20 { usleep(10_000) }
        stop.update { $0 = true }
        group.wait()
        let recovery = answered.timeIntervalSince(t0)
        print(
            String(
                format:
                    "DRILL primary pg%@ killed (%.2f s), pg%@ promoted (%.2f s), API answered a deposit %.2f s after the kill",
                killed, tKilled.timeIntervalSince(t0), promoted, tPromoted.timeIntervalSince(tKilled), recovery))
        print(
            "DRILL acknowledged requests: \(before) before the kill, \(successes.value - before) after; statuses \(statuses.value.sorted { $0.key < $1.key })"
        )
        XCTAssertLessThan(recovery, 10, "the API answers again within 10 s of the kill")
        XCTAssertGreaterThanOrEqual(successes.value, afterPromotion + 200, "load goes on after the failover")
        XCTAssertEqual(badBodies.value, [], "every failure answered with a JSON error")
        XCTAssertEqual(statuses.value[0] ?? 0, 0, "no request hung (15 s) or lost its connection")
        XCTAssertEqual(statuses.value[500] ?? 0, 0, "no 500 during the failover")

        // --- nothing acknowledged was lost, nothing created --------------------------------
        let db = try PTEnv.pg()
        var ackedTotal = 0
        for u in sellers + buyers {
            let a = acked.value[u.name] ?? Acked()
            ackedTotal += a.depositsCents.count + a.orderQuantities.count
            let id = try XCTUnwrap(try LedgerOps.userId(db, name: u.name))
            let flows = try db.query("SELECT cents FROM external_flows WHERE user_id = $1 AND kind = 'deposit'", [id])
            let deposits = Set((0..<flows.count).compactMap { flows.int64($0, 0) })
            let lostDeposits = a.depositsCents.filter { !deposits.contains($0) }
            XCTAssertEqual(lostDeposits, [], "\(u.name): acknowledged deposits missing after the failover")
            let orders = try db.query(
                "SELECT quantity FROM stock_transactions WHERE user_id = $1 AND stock_id = $2 AND parent_id IS NULL",
                [id, Int64(stock) ?? 0])
            let present = Set((0..<orders.count).compactMap { orders.int64($0, 0) })
            let lostOrders = a.orderQuantities.filter { !present.contains($0) }
            XCTAssertEqual(lostOrders, [], "\(u.name): acknowledged orders missing after the failover")
        }
        print(
            "DRILL verified \(ackedTotal) acknowledged deposits and orders on the promoted primary: \(ackedTotal) present"
        )
        try PTLedger.conservation()
        try PTLedger.headroomMatchesRestingOrders()
        try PTStack.assertBooksMatchLedger(db)

        // --- old primary rejoins; kill the other standby; commits go on --------------------
        let t1 = Date()
        let rejoined = try failover(tool, "rejoin", killed)
        let tRejoined = Date()
        let other = try failover(tool, "kill-standby", ["0", "1", "2"].first { $0 != killed && $0 != promoted } ?? "")
        let t2 = Date()
        var committed: [Int64] = []
        for k in 1...20 {
            // x.37: the load deposited whole amounts only, so these are told apart.
            let r = api.request(
                "POST", "/transaction/addMoneyToWallet", token: probe.token, body: #"{"amount":\#(k).37}"#,
                timeoutMillis: 10_000)
            if r.status == 200 { committed.append(Int64(k) * 100 + 37) }
        }
        let tCommits = Date()
        print(
            String(
                format:
                    "DRILL pg%@ rejoined as a standby (base backup, %.2f s); standby pg%@ killed; %d of 20 deposits committed in %.2f s",
                rejoined, tRejoined.timeIntervalSince(t1), other, committed.count, tCommits.timeIntervalSince(t2)))
        XCTAssertEqual(committed.count, 20, "commits go on with one standby killed (the rejoined one acknowledges)")
        let id = try XCTUnwrap(try LedgerOps.userId(db, name: probe.name))
        let flows = try db.query(
            "SELECT cents FROM external_flows WHERE user_id = $1 AND kind = 'deposit' AND cents % 100 = 37", [id])
        XCTAssertEqual(
            (0..<flows.count).compactMap { flows.int64($0, 0) }.sorted(), committed.sorted(),
            "the 20 deposits are in the ledger")
        try PTLedger.conservation()
        print(try failover(tool, "status").split(separator: "\n").map { "DRILL status " + $0 }.joined(separator: "\n"))
    }

    /// Runs scripts/pg-failover with the test stack's state folder; returns its standard output.
    private func failover(_ tool: String, _ args: String...) throws -> String {
        var env = PTEnv.values
        env["STATE_DIR"] = try PTEnv.require("DT_TEST_STATE")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [tool] + args
        p.environment = env
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard p.terminationStatus == 0 else {
            throw PTMissing(
                description:
                    "pg-failover \(args.joined(separator: " ")) failed: \(String(decoding: errors, as: UTF8.self))")
        }
        return text
    }
}
