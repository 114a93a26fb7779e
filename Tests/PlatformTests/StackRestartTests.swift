import Foundation
import Glibc
import ServiceCore
import XCTest

/// The whole machine's processes die at once: kill -9 of every service instance, nginx (master
/// only: its workers are orphaned and keep the port), Redis and PostgreSQL. `scripts/up` alone must
/// bring every one back on the same data, and the stack must serve as before: logins (auth and the
/// users table), the wallet (engine, with Redis empty), a resting order (the engine's rebuilt
/// book), a trade against it, classic commands (buy/user-utilities and the quote server) and the
/// live stream (market-stream behind nginx's Unix sockets, whose stale files the dead left behind).
final class StackRestartTests: XCTestCase {
    func testEveryProcessKilledIsBackAfterUpOnTheSameData() throws {
        let api = try PTClient()
        let seller = try api.newUser("rs-s")
        let buyer = try api.newUser("rs-b")
        let stock = try api.createStock(seller.token)
        api.grant(seller.token, stock, 10)
        ptAssertSuccess(api.order(seller.token, stock, buy: false, limit: 9, 10), "resting ask")
        api.deposit(buyer.token, "100")
        let restingId = try XCTUnwrap(api.stockTxs(seller.token).last?["stock_tx_id"]?.stringValue)
        XCTAssertEqual(classic(api, buyer.token, "ADD", [("amount", .string("5.00"))]).status, 200)
        let balance = try XCTUnwrap(api.balance(buyer.token).flatMap { Int($0) }, "an integer balance")

        let state = try PTEnv.require("DT_TEST_STATE")
        let pidFiles = try FileManager.default.contentsOfDirectory(atPath: state + "/pids")
            .filter { $0.hasSuffix(".pid") }.sorted().map { state + "/pids/" + $0 }
        let names = pidFiles.map { ($0 as NSString).lastPathComponent }
        for service in [
            "auth", "buy", "sell", "user-utilities", "matching-engine", "gateway", "market-stream", "nginx", "redis",
        ] {
            XCTAssertTrue(names.contains { $0.hasPrefix(service) }, "a pid file for \(service): \(names)")
        }
        let dataDir =
            (try? String(contentsOfFile: state + "/pg.location", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? state + "/pg"
        let before = try pidFiles.map(PTStack.pid)
        for file in pidFiles + [dataDir + "/postmaster.pid"] { try PTStack.kill(pidFile: file) }

        let started = Date()
        try PTStack.upAgain()
        let upSeconds = Date().timeIntervalSince(started)
        print(
            "StackRestartTests: scripts/up restarted \(pidFiles.count) processes and PostgreSQL in "
                + String(format: "%.1f s", upSeconds))
        for (file, old) in zip(pidFiles, before) {
            let now = try PTStack.pid(file)
            XCTAssertNotEqual(now, old, "\(file): a new process")
            XCTAssertEqual(Glibc.kill(now, 0), 0, "\(file): pid \(now) runs")
        }
        PTStack.waitUntilServed(api, token: buyer.token)

        // Same data: the balance (Redis was emptied: read through to the ledger), the resting order.
        XCTAssertEqual(api.balance(buyer.token), String(balance))
        let resting = api.stockTxs(seller.token).first { $0["stock_tx_id"]?.stringValue == restingId }
        XCTAssertEqual(resting?["order_status"]?.stringValue, "IN_PROGRESS", "the ask is still on the book")
        // The rebuilt book trades: a market buy of 3 fills against the ask at 9.
        ptAssertSuccess(api.order(buyer.token, stock, buy: true, limit: nil, 3), "market buy after the restart")
        XCTAssertEqual(api.balance(buyer.token), String(balance - 27))
        XCTAssertEqual(api.owned(buyer.token, stock), "3")
        // A login checks the password against the users table again.
        let again = try api.newUser("rs-again")
        XCTAssertFalse(again.token.isEmpty)
        // Classic: the ADD before the kill is in the summary; a quote comes from the quote server.
        let summary = classic(api, buyer.token, "DISPLAY_SUMMARY", [])
        XCTAssertEqual(summary.status, 200, summary.body)
        XCTAssertTrue(summary.body.contains("ADD"), "the summary lists the ADD made before the kill: \(summary.body)")
        let quote = classic(api, buyer.token, "QUOTE", [("stock", .string("ABC"))])
        XCTAssertEqual(quote.status, 200, quote.body)
        // The live stream through nginx (a new Unix socket in place of the dead one's file).
        let ticket = try XCTUnwrap(
            api.request("POST", "/engine/streamTicket", token: buyer.token).value("$.data.ticket")?.stringValue)
        let stream = try SSETestClient(try PTEnv.nginx(), ticket: ticket)
        XCTAssertEqual(stream.status, 200, stream.errorBody)
        try PTLedger.conservation()
    }

    private func classic(_ api: PTClient, _ token: String, _ command: String, _ fields: [(String, JSON)])
        -> PTResponse
    {
        api.request("POST", "/classic/" + command, token: token, body: JSON.object(fields).serialized())
    }
}
