import Foundation
import Ledger
import ServiceCore
import XCTest

@testable import PlatformCore

/// The Redis copy of balances (`wallet:<user_id>`) only serves getWalletBalance: money decisions
/// read PostgreSQL, and with Redis gone the engine keeps trading and balances come from the ledger.
final class WalletCacheTests: XCTestCase {
    func testDecisionsIgnoreTheCacheAndCommitsRewriteIt() throws {
        let api = try PTClient()
        let seller = try api.newUser("wcs").token
        let buyer = try api.newUser("wcb")
        let s = try api.createStock(seller)
        api.grant(seller, s, 100)
        ptAssertSuccess(api.order(seller, s, buy: false, limit: 10, 100), "ask 100 @ 10")
        api.deposit(buyer.token, "50")
        XCTAssertEqual(api.balance(buyer.token), "50")
        let id = try XCTUnwrap(try LedgerOps.userId(try PTEnv.pg(), name: buyer.name))
        let redis = try PTEnv.redis()
        let cached = try XCTUnwrap(try redis.command(["GET", "wallet:\(id)"]).text)
        XCTAssertTrue(cached.hasSuffix(":5000"), "written through after the deposit's commit: \(cached)")

        // A lying cache does not buy anything: the decision reads the ledger.
        try redis.command(["SET", "wallet:\(id)", "0:99999999", "EX", "30"]) // an (impossible) value at an old version
        ptAssertFailure(api.order(buyer.token, s, buy: true, limit: nil, 6), status: 400, "60 > 50 whatever Redis says")
        ptAssertSuccess(api.order(buyer.token, s, buy: true, limit: nil, 2), "20 ≤ 50")
        XCTAssertEqual(api.balance(buyer.token), "30", "the commit rewrote the cached value")
        try PTLedger.conservation()
    }

    /// Cash moved by someone other than the engine (a classic ADD here) must not leave a stale
    /// cached balance: PostgreSQL notifies at commit and the engine drops the cached value.
    func testCashMovedOutsideTheEngineInvalidatesTheCache() throws {
        let api = try PTClient()
        guard !api.direct else { throw XCTSkip("needs the whole stack behind nginx") }
        let user = try api.newUser("wci")
        api.deposit(user.token, "40")
        XCTAssertEqual(api.balance(user.token), "40")
        let id = try XCTUnwrap(try LedgerOps.userId(try PTEnv.pg(), name: user.name))
        let redis = try PTEnv.redis()
        let before = try XCTUnwrap(try redis.command(["GET", "wallet:\(id)"]).text)
        XCTAssertTrue(before.hasSuffix(":4000"), before)
        let add = api.request(
            "POST", "/classic/ADD", token: user.token, body: #"{"userid":"\#(user.name)","amount":"2.50"}"#)
        XCTAssertEqual(add.status, 200, add.body)
        // The notification arrives after the ADD's commit; allow it a bounded moment.
        let deadline = Date().addingTimeInterval(10) // a LISTEN reconnect after an earlier crash test takes ~1.5 s
        while try redis.command(["GET", "wallet:\(id)"]).text == before && Date() < deadline { usleep(10_000) }
        XCTAssertNotEqual(try redis.command(["GET", "wallet:\(id)"]).text, before, "stale cached balance survived")
        XCTAssertEqual(api.balance(user.token), "42.50")
        try PTLedger.conservation()
    }

    /// The race of a reader that read the ledger just before a classic commit and fills the
    /// cache just after that commit's invalidation: the fill carries the older version, so it is
    /// refused and the next read shows the committed balance.
    func testABalanceReadBeforeAClassicCommitIsNeverReCached() throws {
        let api = try PTClient()
        guard !api.direct else { throw XCTSkip("needs the whole stack behind nginx") }
        let user = try api.newUser("wcr")
        api.deposit(user.token, "10")
        let db = try PTEnv.pg()
        let id = try XCTUnwrap(try LedgerOps.userId(db, name: user.name))
        let redis = try PTEnv.redis()
        let stale = try PlatformReads.balanceCents(db, userId: id) // the slow reader's read
        XCTAssertEqual(stale.cents, 1000)
        try redis.command(["DEL", "wallet:\(id)"])
        let add = api.request("POST", "/classic/ADD", token: user.token, body: #"{"amount":"5"}"#)
        XCTAssertEqual(add.status, 200, add.body)
        // Wait for the invalidation of that commit (a tombstone at its version) to land.
        let deadline = Date().addingTimeInterval(10) // a LISTEN reconnect after an earlier crash test takes ~1.5 s
        while try redis.command(["GET", "wallet:\(id)"]).text == nil && Date() < deadline { usleep(10_000) }
        let tomb = try XCTUnwrap(
            try redis.command(["GET", "wallet:\(id)"]).text, "no tombstone after the classic commit")
        XCTAssertTrue(tomb.hasSuffix(":-"), tomb)
        WalletCache().fill({ redis }, userId: id, cents: stale.cents, version: stale.version)
        XCTAssertEqual(try redis.command(["GET", "wallet:\(id)"]).text, tomb, "the older read was refused")
        XCTAssertEqual(api.balance(user.token), "15")
        let fresh = try PlatformReads.balanceCents(db, userId: id)
        XCTAssertGreaterThan(fresh.version, stale.version)
        try PTLedger.conservation()
    }

    /// A balance read before the first deposit caches "no account yet"; the deposit that creates
    /// the account row (version 0) must still replace it.
    func testTheFirstDepositReplacesACachedEmptyBalance() throws {
        let api = try PTClient()
        let user = try api.newUser("wcf")
        XCTAssertEqual(api.balance(user.token), "0", "no account yet")
        api.deposit(user.token, "12")
        XCTAssertEqual(api.balance(user.token), "12")
    }

    func testTradingAndBalancesWorkWithoutRedis() throws {
        let api = try PTClient()
        let restart = try PTEnv.require("DT_TEST_REDIS_RESTART")
        let seller = try api.newUser("wrs").token
        let buyer = try api.newUser("wrb").token
        let s = try api.createStock(seller)
        api.grant(seller, s, 100)
        ptAssertSuccess(api.order(seller, s, buy: false, limit: 10, 100), "ask")
        api.deposit(buyer, "100")
        XCTAssertEqual(api.balance(buyer), "100")
        XCTAssertEqual(PTShell.run(restart + " kill"), 0, "kill Redis")
        defer { XCTAssertEqual(PTShell.run(restart + " start"), 0, "start Redis again") }
        ptAssertSuccess(api.order(buyer, s, buy: true, limit: nil, 3), "buy while Redis is down")
        XCTAssertEqual(api.balance(buyer), "70", "balance from PostgreSQL")
        api.deposit(buyer, "5")
        XCTAssertEqual(api.balance(buyer), "75")
        XCTAssertEqual(PTShell.run(restart + " start"), 0)
        XCTAssertEqual(api.balance(buyer), "75", "no stale value once Redis is back")
        ptAssertSuccess(api.order(buyer, s, buy: true, limit: nil, 1), "buy with Redis back")
        XCTAssertEqual(api.balance(buyer), "65")
        try PTLedger.conservation()
    }
}

enum PTShell {
    /// Runs a shell command line; returns its exit status.
    static func run(_ command: String) -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = ["-c", command]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return -1 }
        p.waitUntilExit()
        return p.terminationStatus
    }

    /// Runs a program to its end with exactly `environment`; returns its status and combined output.
    /// `timeout`: terminated after that many seconds (for programs expected to exit at once).
    static func capture(
        _ path: String, _ args: [String], environment: [String: String],
        timeout: TimeInterval? = nil
    ) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        p.environment = environment
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        if let timeout {
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { if p.isRunning { p.terminate() } }
        }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
