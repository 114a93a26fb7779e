import Foundation
import Ledger
import ServiceCore
import XCTest

/// Classic commands and engine orders on the same accounts and holdings at once: both paths lock
/// a user's account row before any of their holdings, so PostgreSQL never finds a deadlock and
/// the engine never rolls back (and rebuilds) a batch because of one.
final class LockOrderTests: XCTestCase {
    static func deadlocksLogged() throws -> Int {
        let path = try PTEnv.require("DT_TEST_STATE") + "/logs/postgres.log"
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.components(separatedBy: "deadlock detected").count - 1
    }

    /// After a race: no server error, some `served` answers, no deadlock logged and no engine
    /// batch failed since the counts were taken, and the ledger and books exact.
    static func assertRaceEndedClean(
        _ statuses: [String: Int], served: String, _ deadlocksBefore: Int, _ failedBefore: Int,
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        XCTAssertNil(
            statuses.keys.first { $0.hasSuffix(" 500") || $0.hasSuffix(" 503") || $0.hasSuffix(" 0") },
            "no server errors: \(statuses)", file: file, line: line)
        XCTAssertGreaterThan(statuses[served, default: 0], 0, "\(served): \(statuses)", file: file, line: line)
        XCTAssertEqual(try deadlocksLogged(), deadlocksBefore, "PostgreSQL found no deadlock", file: file, line: line)
        XCTAssertEqual(try BoundsTests.failedBatches(), failedBefore, "no engine batch failed", file: file, line: line)
        try PTLedger.conservation()
        try PTLedger.headroomMatchesRestingOrders()
        try PTStack.assertBooksMatchLedger(try PTEnv.pg())
    }

    func testClassicAndEngineRaceWithoutDeadlocks() throws {
        let api = try PTClient()
        guard !api.direct else { throw XCTSkip("needs the whole stack behind nginx") }
        let ep = try EdgeEnv.nginx()
        let trader = try api.newUser("lkT")
        let buyer = try api.newUser("lkB")
        // A three-letter platform stock is also a classic symbol: both APIs trade the same holding.
        var symbol = ""
        var stock = ""
        for _ in 0..<20 where stock.isEmpty {
            symbol = String((0..<3).map { _ in "QVWXYZ".randomElement() ?? "Q" })
            let r = api.request(
                "POST", "/setup/createStock", token: trader.token, body: #"{"stock_name":"\#(symbol)"}"#)
            stock = r.value("$.data.stock_id")?.stringValue ?? ""
        }
        XCTAssertFalse(stock.isEmpty, "no free three-letter stock name")
        api.grant(trader.token, stock, 100_000)
        api.deposit(trader.token, "100000")
        api.deposit(buyer.token, "100000")
        let deadlocksBefore = try Self.deadlocksLogged()
        let failedBefore = try BoundsTests.failedBatches()

        let (symbolName, stockId) = (symbol, stock)
        @Sendable func classic(_ command: String, _ body: String) -> Int {
            (try? EdgeHTTP.call(ep, "POST", "/classic/" + command, headers: [("token", trader.token)], body: body)
                .status) ?? 0
        }
        let until = Date().addingTimeInterval(4)
        let statuses = PTBox<[String: Int]>([:])
        DispatchQueue.concurrentPerform(iterations: 4) { lane in
            while Date() < until {
                let status: Int
                let what: String
                switch lane {
                case 0:
                    what = "ask"
                    status = api.order(trader.token, stockId, buy: false, limit: Int64.random(in: 1...3), 1).status
                case 1:
                    what = "take"
                    status = api.order(buyer.token, stockId, buy: true, limit: 3, 1).status
                case 2:
                    what = "classic sell"
                    status = classic("SELL", #"{"stock":"\#(symbolName)","amount":"5.00"}"#)
                    _ = classic("COMMIT_SELL", "{}")
                default:
                    what = "classic add"
                    status = classic("ADD", #"{"amount":"1.00"}"#)
                }
                statuses.update { $0["\(what) \(status)", default: 0] += 1 }
            }
        }
        try Self.assertRaceEndedClean(statuses.value, served: "ask 200", deadlocksBefore, failedBefore)
    }

    func testUsersCrossingOrdersWhileTheirClassicCommandsRunWithoutDeadlocks() throws {
        // Several users trade one stock with each other (an engine batch settles fills on the
        // makers' accounts as well as the takers') while each of them also runs classic commands
        // (whose batches lock their accounts in ascending id). Before the engine locked every
        // account it could touch first, in the same order, this found ~1 deadlock every 4 s.
        let api = try PTClient()
        guard !api.direct else { throw XCTSkip("needs the whole stack behind nginx") }
        let ep = try EdgeEnv.nginx()
        let users = try (0..<6).map { _ in try api.newUser("lkX") }
        let created = api.request(
            "POST", "/setup/createStock", token: users[0].token,
            body: #"{"stock_name":"LKX\#(Int.random(in: 0..<1_000_000_000))"}"#)
        let stock = created.value("$.data.stock_id")?.stringValue ?? ""
        XCTAssertFalse(stock.isEmpty, "stock not created: \(created.status)")
        for u in users {
            api.grant(u.token, stock, 10_000)
            api.deposit(u.token, "100000")
            _ = try? EdgeHTTP.call(
                ep, "POST", "/classic/ADD", headers: [("token", u.token)], body: #"{"amount":"1000.00"}"#)
        }
        let deadlocksBefore = try Self.deadlocksLogged()
        let failedBefore = try BoundsTests.failedBatches()

        let tokens = users.map(\.token)
        let stockId = stock
        let until = Date().addingTimeInterval(6)
        let statuses = PTBox<[String: Int]>([:])
        DispatchQueue.concurrentPerform(iterations: 12) { lane in
            let token = tokens[lane % tokens.count]
            while Date() < until {
                let what: String
                let status: Int
                switch Int.random(in: 0..<5) {
                case 0, 1, 2:
                    what = "order"
                    status =
                        api.order(
                            token, stockId, buy: Bool.random(), limit: Int64.random(in: 8...12),
                            Int64.random(in: 1...20)
                        )
                        .status
                case 3:
                    what = "classic buy"
                    status =
                        (try? EdgeHTTP.call(
                            ep, "POST", "/classic/BUY", headers: [("token", token)],
                            body: #"{"stock":"LKY","amount":"20.00"}"#
                        ).status) ?? 0
                    _ = try? EdgeHTTP.call(ep, "POST", "/classic/COMMIT_BUY", headers: [("token", token)], body: "{}")
                default:
                    what = "classic add"
                    status =
                        (try? EdgeHTTP.call(
                            ep, "POST", "/classic/ADD", headers: [("token", token)], body: #"{"amount":"1.00"}"#
                        ).status) ?? 0
                }
                statuses.update { $0["\(what) \(status)", default: 0] += 1 }
            }
        }
        try Self.assertRaceEndedClean(statuses.value, served: "order 200", deadlocksBefore, failedBefore)
    }
}
