import Foundation
import Glibc
import Ledger
import ServiceCore
import XCTest

/// Durability: under load from several threads, `kill -9` the matching engine, restart it with
/// scripts/up (same state folder and ports as scripts/test), then check that every order answered
/// success is in the ledger, the rebuilt books equal the ledger's resting orders, escrows match
/// the resting orders, and money and shares are conserved.
final class EngineCrashTests: XCTestCase {
    struct Placed: Sendable {
        let quantity: Int64
        let isBuy: Bool
        let type: String
    }

    func testKillDashNineUnderLoadLosesNothingAnswered() throws {
        let api = try PTClient()
        let sellers = try (0..<2).map { _ in try api.newUser("ks") }
        let buyers = try (0..<2).map { _ in try api.newUser("kb") }
        let s = try api.createStock(sellers[0].token)
        for u in sellers { api.grant(u.token, s, 10_000_000) }
        for u in buyers { api.deposit(u.token, "100000000") }

        let stop = PTBox(false)
        let successes = PTBox(0)
        let placed = PTBox<[String: [Placed]]>([:])
        let cancelled = PTBox<[String: [String]]>([:])
        let group = DispatchGroup()
        for (i, u) in (sellers + buyers).enumerated() {
            let isSeller = i < sellers.count
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                var q: Int64 = 0
                while !stop.value {
                    q += 1
                    // Quantities are unique per user, so each answered order can be found later.
                    let (buy, price): (Bool, Int64?) = isSeller ? (false, 100 + q % 3) : (true, q % 2 == 0 ? nil : 50)
                    let r = api.order(u.token, s, buy: buy, limit: price, q)
                    if r.status == 200 {
                        placed.update {
                            $0[u.name, default: []].append(
                                Placed(quantity: q, isBuy: buy, type: price == nil ? "MARKET" : "LIMIT"))
                        }
                        successes.update { $0 += 1 }
                    }
                    if isSeller && q % 7 == 0, r.status == 200 {
                        // Cancel the newest open order now and then.
                        let open = api.stockTxs(u.token).last { $0.text("order_status") == "IN_PROGRESS" }
                        if let id = open?.text("stock_tx_id"), api.cancel(u.token, id).status == 200 {
                            cancelled.update { $0[u.name, default: []].append(id) }
                        }
                    }
                    if r.status != 200 && r.status != 400 { usleep(20_000) } // engine down: don't spin
                }
            }
        }
        // Let the load build up, then kill the engine in the middle of it.
        let deadline = Date().addingTimeInterval(30)
        while successes.value < 150 && Date() < deadline { usleep(10_000) }
        XCTAssertGreaterThanOrEqual(successes.value, 150, "load never got going")
        try PTStack.killEngine()
        usleep(300_000)
        stop.update { $0 = true }
        group.wait()
        try PTStack.upAgain()
        PTStack.waitUntilServed(api, token: buyers[0].token)

        // 1. Every order answered success is in the ledger with what was asked.
        for u in sellers + buyers {
            let txs = api.stockTxs(u.token).filter { $0.text("parent_stock_tx_id") == "null" }
            let byQuantity = Dictionary(txs.map { ($0.text("quantity"), $0) }, uniquingKeysWith: { a, _ in a })
            for p in placed.value[u.name] ?? [] {
                guard let tx = byQuantity[String(p.quantity)] else {
                    XCTFail("\(u.name): answered order of \(p.quantity) is missing")
                    continue
                }
                XCTAssertEqual(tx.text("is_buy"), String(p.isBuy))
                XCTAssertEqual(tx.text("order_type"), p.type)
            }
            let statuses = Dictionary(
                txs.map { ($0.text("stock_tx_id"), $0.text("order_status")) }, uniquingKeysWith: { a, _ in a })
            for id in cancelled.value[u.name] ?? [] {
                XCTAssertEqual(statuses[id], "CANCELLED", "answered cancel of \(id)")
            }
        }

        // 2. The rebuilt books hold exactly the ledger's resting orders.
        let db = try PTEnv.pg()
        try PTStack.assertBooksMatchLedger(db)

        // 3. Escrows equal what rests, per user; 4. nothing was created or lost.
        for u in sellers + buyers {
            let id = try XCTUnwrap(try LedgerOps.userId(db, name: u.name))
            let r = try db.query(
                """
                SELECT (SELECT COALESCE(SUM(reserved), 0) FROM holdings WHERE user_id = $1 AND stock_id = $2)::TEXT,
                       (SELECT COALESCE(SUM(remaining), 0) FROM stock_transactions WHERE user_id = $1 AND stock_id = $2
                          AND parent_id IS NULL AND NOT is_buy AND status IN ('IN_PROGRESS', 'PARTIALLY_COMPLETE'))::TEXT,
                       (SELECT COALESCE(SUM(reserved_cents), 0) FROM accounts WHERE user_id = $1)::TEXT,
                       (SELECT COALESCE(SUM(remaining * price_cents), 0) FROM stock_transactions WHERE user_id = $1
                          AND parent_id IS NULL AND is_buy AND status IN ('IN_PROGRESS', 'PARTIALLY_COMPLETE'))::TEXT
                """, [id, Int64(s) ?? 0])
            XCTAssertEqual(r.string(0, 0), r.string(0, 1), "\(u.name): reserved shares = resting sells")
            XCTAssertEqual(r.string(0, 2), r.string(0, 3), "\(u.name): reserved cash = resting bids")
        }
        try PTLedger.conservation()

        // 5. The restarted engine trades on from the rebuilt books.
        ptAssertSuccess(api.order(buyers[0].token, s, buy: true, limit: nil, 1), "market buy after restart")
        try PTStack.assertBooksMatchLedger(db)
    }
}

/// Process control of the test stack (scripts/test's state folder and ports).
enum PTStack {
    static func enginePidFile() throws -> String {
        try PTEnv.require("DT_TEST_STATE") + "/pids/matching-engine-\(try PTEnv.portBase() + 8600).pid"
    }

    static func killEngine(_ signal: Int32 = SIGKILL) throws {
        try kill(pidFile: try enginePidFile(), signal)
    }

    /// Signals the process whose pid is the first line of `pidFile` (a service's pid file or
    /// PostgreSQL's postmaster.pid) and waits until it is gone.
    static func kill(pidFile: String, _ signal: Int32 = SIGKILL) throws {
        let pid = try pid(pidFile)
        XCTAssertEqual(Glibc.kill(pid, signal), 0, "kill -\(signal) \(pid) (\(pidFile))")
        let deadline = Date().addingTimeInterval(20)
        while Glibc.kill(pid, 0) == 0 && Date() < deadline {
            // Gone once only a zombie is left (scripts/up's setsid parent may not reap it at once).
            if let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), stat.contains(") Z ") {
                break
            }
            usleep(20_000)
        }
    }

    /// The pid on the first line of `pidFile`.
    static func pid(_ pidFile: String) throws -> Int32 {
        let text = try String(contentsOfFile: pidFile, encoding: .utf8)
        guard let pid = Int32(text.split(separator: "\n").first?.trimmingCharacters(in: .whitespaces) ?? "") else {
            throw PTMissing(description: "bad pid file \(pidFile)")
        }
        return pid
    }

    /// scripts/up with SKIP_BUILD=1 restarts whatever died, with the same state and ports.
    static func upAgain() throws {
        let env = PTEnv.values
        let pg = try PTEnv.require("DT_TEST_PG")
        let redis = try PTEnv.require("DT_TEST_REDIS")
        let nginx = try PTEnv.nginx()
        // The first port (node 0) when DT_TEST_PG names a primary and its standbys.
        guard
            let pgPort = pg.split(separator: " ").first(where: { $0.hasPrefix("port=") })?.dropFirst(5).split(
                separator: ","
            ).first,
            let redisPort = redis.split(separator: ":").last
        else { throw PTMissing(description: "cannot read ports") }
        var e = env
        e["STATE_DIR"] = try PTEnv.require("DT_TEST_STATE")
        e["PG_PORT"] = String(pgPort)
        e["REDIS_PORT"] = String(redisPort)
        e["PORT"] = String(nginx.port)
        e["PORT_BASE"] = String(try PTEnv.portBase())
        e["SKIP_BUILD"] = "1"
        e["SKIP_APT"] = "1"
        e["BUILD"] = "debug"
        e["DT_ALLOW_RESET"] = "1"
        if let bin = env["DT_TEST_BIN_DIR"] { e["BIN_DIR"] = bin }
        let up = try PTShell.capture("/bin/bash", [try PTEnv.require("DT_TEST_REPO") + "/scripts/up"], environment: e)
        XCTAssertEqual(up.status, 0, "scripts/up: " + up.output)
        let health = try HTTPClient.shared.request(
            try PTEnv.engine(), method: "GET", path: "/health", timeoutMillis: 5000)
        XCTAssertEqual(health.status, 200)
    }

    /// After a restart the gateway's breaker for the engine may still be open: wait until an
    /// engine route answers through the public path again (its half-open probe closes it).
    static func waitUntilServed(_ api: PTClient, token: String, file: StaticString = #filePath, line: UInt = #line) {
        let deadline = Date().addingTimeInterval(60)
        var last = api.request("GET", "/transaction/getStockPrices", token: token)
        while last.status != 200 && Date() < deadline {
            usleep(100_000)
            last = api.request("GET", "/transaction/getStockPrices", token: token)
        }
        XCTAssertEqual(
            last.status, 200, "engine reachable through \(api.direct ? "its port" : "nginx") again: \(last.body)",
            file: file, line: line)
    }

    /// The engines' in-memory resting orders (every shard's, when the stack runs several) equal
    /// the ledger's open orders (id → remaining).
    static func assertBooksMatchLedger(_ db: PGConnection, file: StaticString = #filePath, line: UInt = #line) throws {
        var books: [String: String] = [:]
        let engine = try PTEnv.engine()
        for k in 0..<(Int(PTEnv.values["DT_TEST_ENGINE_SHARDS"] ?? "1") ?? 1) {
            let r = try PTEnv.signedClient.request(
                Endpoint(host: engine.host, port: engine.port + k), method: "GET", path: "/internal/books",
                timeoutMillis: 30_000)
            let orders = try JSON.parse(r.body)["data"]?["orders"]?.arrayValue ?? []
            for o in orders { books[o.text("stock_tx_id")] = o.text("remaining") }
        }
        let rows = try db.query(
            """
            SELECT id, remaining FROM stock_transactions
            WHERE parent_id IS NULL AND status IN ('IN_PROGRESS', 'PARTIALLY_COMPLETE') AND remaining > 0
            """)
        var ledger: [String: String] = [:]
        for i in 0..<rows.count { ledger[rows.string(i, 0) ?? ""] = rows.string(i, 1) }
        XCTAssertEqual(books, ledger, "books vs ledger", file: file, line: line)
        XCTAssertFalse(ledger.isEmpty, "some orders rest", file: file, line: line)
    }
}
