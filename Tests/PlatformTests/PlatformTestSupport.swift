import Foundation
import Ledger
import ServiceCore
import XCTest

// Helpers for the platform conformance, engine and OpenAPI tests. Names carry a `PT` prefix so
// they cannot clash with the auth/gateway helpers in this test module.

struct PTMissing: Error, CustomStringConvertible { let description: String }

enum PTEnv {
    static var values: [String: String] { ProcessInfo.processInfo.environment }

    static func require(_ key: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        guard let v = values[key], !v.isEmpty else {
            let message = "\(key) is not set: run the tests through scripts/test, which starts the stack"
            XCTFail(message, file: file, line: line)
            throw PTMissing(description: message)
        }
        return v
    }

    static func portBase() throws -> Int {
        guard let b = Int(try require("DT_TEST_PORT_BASE")) else {
            throw PTMissing(description: "DT_TEST_PORT_BASE is not a number")
        }
        return b
    }

    /// The matching engine itself (loopback, bypassing nginx and the gateway).
    static func engine() throws -> Endpoint { Endpoint(host: "127.0.0.1", port: try portBase() + 8600) }

    static func nginx() throws -> Endpoint {
        let url = try require("DT_TEST_NGINX")
        let hostPort =
            url.replacingOccurrences(of: "http://", with: "").split(separator: "/").first.map(String.init) ?? ""
        guard let ep = Endpoint(hostPort) else {
            throw PTMissing(description: "DT_TEST_NGINX is not http://host:port: \(url)")
        }
        return ep
    }

    static func pg() throws -> PGConnection { try PGConnection(try require("DT_TEST_PG")) }

    /// The stack's Redis, authenticated (requirepass).
    static func redis() throws -> RedisConnection {
        guard let ep = Endpoint(try require("DT_TEST_REDIS")) else {
            throw PTMissing(description: "DT_TEST_REDIS is not host:port")
        }
        return try RedisConnection(ep, password: try require("DT_TEST_REDIS_PASSWORD"))
    }

    /// Requests straight to a service port carry the gateway's proof (the stack's DT_TEST_INTERNAL_KEY).
    static let signedClient = HTTPClient(signer: GatewayProof.fromEnvironment("DT_TEST_INTERNAL_KEY"))

    /// The samples a service's /metrics exposes (Prometheus text, `series value` per line), asked
    /// for with the gateway's proof as the gateway itself would.
    static func metrics(_ service: Endpoint) throws -> [(series: Substring, value: Double)] {
        let r = try signedClient.request(service, method: "GET", path: "/metrics", timeoutMillis: 5000)
        return String(decoding: r.body, as: UTF8.self).split(separator: "\n").compactMap { line in
            guard !line.hasPrefix("#"), let space = line.lastIndex(of: " "),
                let value = Double(line[line.index(after: space)...])
            else { return nil }
            return (line[..<space], value)
        }
    }

    /// DT_TEST_PLATFORM_DIRECT=1 talks to the engine with x-user-id headers and makes users in
    /// the database directly (for developing the engine before auth and the gateway exist).
    static var direct: Bool { values["DT_TEST_PLATFORM_DIRECT"] == "1" }

    static func unique(_ prefix: String) -> String {
        prefix + Crypto.randomBytes(5).map { String(format: "%02x", $0) }.joined()
    }
}

/// One HTTP answer, parsed.
struct PTResponse {
    let status: Int
    let body: String
    let json: JSON?

    /// JMeter's JSONPath assertion compares the string form of the value: strings as they are,
    /// numbers as written, true/false, null, and arrays/objects as JSON text. nil = path missing.
    func path(_ path: String) -> String? { json?.at(path)?.assertionText }

    func value(_ path: String) -> JSON? { json?.at(path) }
}

/// A client of the public API, the way JMeter drives it: through nginx with the `token` header.
/// In direct mode (PTEnv.direct) it emulates register/login against the database and sends
/// `x-user-id` to the engine instead.
final class PTClient: @unchecked Sendable {
    let endpoint: Endpoint
    let direct: Bool
    private let lock = NSLock()
    private var directUsers: [String: (id: Int64, password: String)] = [:]

    init() throws {
        direct = PTEnv.direct
        endpoint = direct ? try PTEnv.engine() : try PTEnv.nginx()
    }

    func request(
        _ method: String, _ path: String, token: String?, body: String? = nil,
        timeoutMillis: Int = 30_000
    ) -> PTResponse {
        var headers: [(String, String)] = [("Content-Type", "application/json")]
        if let token { headers.append(direct ? ("x-user-id", token) : ("token", token)) }
        do {
            let client = direct ? PTEnv.signedClient : HTTPClient.shared
            let r = try client.request(
                endpoint, method: method, path: path, headers: headers,
                body: Array((body ?? "").utf8), timeoutMillis: timeoutMillis)
            return PTResponse(
                status: r.status, body: String(decoding: r.body, as: UTF8.self), json: try? JSON.parse(r.body))
        } catch {
            return PTResponse(status: 0, body: "\(error)", json: nil)
        }
    }

    func register(_ userName: String, _ password: String, _ name: String) -> PTResponse {
        let body = #"{"user_name":"\#(userName)", "password":"\#(password)", "name":"\#(name)"}"#
        guard direct else { return request("POST", "/authentication/register", token: nil, body: body) }
        do {
            let db = try PTEnv.pg()
            let r = try db.query(
                "INSERT INTO users (user_name, name, password_hash) VALUES ($1, $2, 'direct-test') ON CONFLICT DO NOTHING RETURNING id",
                [userName, name])
            guard let id = r.int64(0, 0) else { return fake(400, false) }
            lock.withLock { directUsers[userName] = (id, password) }
            return fake(200, true)
        } catch {
            return fake(500, false)
        }
    }

    func login(_ userName: String, _ password: String) -> PTResponse {
        guard direct else {
            return request(
                "POST", "/authentication/login", token: nil,
                body: #"{"user_name":"\#(userName)", "password":"\#(password)"}"#)
        }
        guard let u = lock.withLock({ directUsers[userName] }), u.password == password else { return fake(400, false) }
        let text = #"{"success":true,"data":{"token":"\#(u.id)"}}"#
        return PTResponse(status: 200, body: text, json: try? JSON.parse(text))
    }

    private func fake(_ status: Int, _ success: Bool) -> PTResponse {
        let text = success ? #"{"success":true,"data":null}"# : #"{"success":false,"data":{"error":"x"}}"#
        return PTResponse(status: status, body: text, json: try? JSON.parse(text))
    }

    /// Registers and logs in a fresh user; returns its token.
    func newUser(_ prefix: String, file: StaticString = #filePath, line: UInt = #line) throws -> (
        name: String, token: String
    ) {
        let name = PTEnv.unique(prefix)
        let password = "Pw@" + PTEnv.unique("")
        let reg = register(name, password, "Test \(prefix)")
        XCTAssertEqual(reg.status, 200, "register \(name): \(reg.body)", file: file, line: line)
        let login = login(name, password)
        guard let token = login.value("$.data.token")?.stringValue else {
            XCTFail("login \(name): \(login.status) \(login.body)", file: file, line: line)
            throw PTMissing(description: "no token")
        }
        return (name, token)
    }
}

/// Asserts every JMeter JSONPath check of one step: `expected` maps a path to the string form.
func ptAssertPaths(
    _ r: PTResponse, _ expected: [(String, String)], _ step: String,
    file: StaticString = #filePath, line: UInt = #line
) {
    for (path, want) in expected {
        XCTAssertEqual(r.path(path), want, "\(step): \(path) in \(r.body.prefix(600))", file: file, line: line)
    }
}

/// A 2xx answer with `"success": true` (what a plan's step without a code assertion needs).
func ptAssertSuccess(_ r: PTResponse, _ step: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertTrue(
        (200..<300).contains(r.status), "\(step): HTTP \(r.status) \(r.body.prefix(300))", file: file, line: line)
    XCTAssertEqual(r.path("$.success"), "true", "\(step): \(r.body.prefix(300))", file: file, line: line)
}

func ptAssertFailure(_ r: PTResponse, status: Int, _ step: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(r.status, status, "\(step): \(r.body.prefix(300))", file: file, line: line)
    XCTAssertEqual(r.path("$.success"), "false", "\(step): \(r.body.prefix(300))", file: file, line: line)
    XCTAssertNotNil(
        r.value("$.data.error")?.stringValue, "\(step): error sentence in data.error", file: file, line: line)
}

/// Checks that a value is a JSON integer (not a string, not 135.0) — stricter than JMeter.
func ptAssertInteger(_ r: PTResponse, _ path: String, file: StaticString = #filePath, line: UInt = #line) {
    guard case .number(let text)? = r.value(path) else {
        XCTFail("\(path) is not a JSON number in \(r.body.prefix(300))", file: file, line: line)
        return
    }
    XCTAssertNotNil(Int64(text), "\(path) = \(text) is not an integer", file: file, line: line)
}

/// Whole-ledger reset for the plans that need a brand-new system (VanguardETF, Google and Apple
/// must not exist; getStockPrices must list exactly their two stocks): truncates every ledger
/// table (admin users are kept), then tells the engine to drop its books and cached balances.
/// Other test classes create their own data when they start, so this is safe between classes.
enum PTLedger {
    static func resetAll(file: StaticString = #filePath, line: UInt = #line) throws {
        // TRUNCATE locks a dozen tables one by one while the stack's background workers (expiry
        // sweeper, trigger worker, the engine's last batch) may still hold row locks in their own
        // order: PostgreSQL then aborts one side with 40P01. Only the reset is rerun (on a fresh
        // connection, its aborted transaction gone); the services' own transactions are untouched.
        for attempt in 1... {
            do {
                try PTEnv.pg().execute(
                    """
                    BEGIN;
                    CREATE TEMP TABLE pt_keep_users ON COMMIT DROP AS SELECT * FROM users WHERE role = 'admin';
                    TRUNCATE users, accounts, stocks, holdings, external_flows, stock_transactions,
                        wallet_transactions CASCADE;
                    INSERT INTO users SELECT * FROM pt_keep_users;
                    COMMIT;
                    """)
                break
            } catch let error as PGError where error.isRetryable && attempt < 5 {
                continue
            }
        }
        let r = try PTEnv.signedClient.request(
            try PTEnv.engine(), method: "POST", path: "/internal/reset", timeoutMillis: 30_000)
        if r.status == 404 {
            // The stack runs the engine without DT_ALLOW_RESET: restart it instead (it rebuilds
            // its books from the now empty ledger; scripts/up passes DT_ALLOW_RESET=1 this time).
            try PTStack.killEngine(SIGTERM)
            try PTStack.upAgain()
            return
        }
        XCTAssertEqual(
            r.status, 200, "engine reset: " + String(decoding: r.body, as: UTF8.self), file: file, line: line)
    }

    /// Money and shares conserved, every wallet transaction = quantity × stock_price of its stock
    /// transaction, and no balance past its bound.
    static func conservation(file: StaticString = #filePath, line: UInt = #line) throws {
        let db = try PTEnv.pg()
        let problems = try LedgerOps.conservationViolations(db)
        XCTAssertEqual(problems, [], "conservation of money and shares", file: file, line: line)
        let mismatched = try db.query(
            """
            SELECT count(*) FROM wallet_transactions w JOIN stock_transactions t ON t.id = w.stock_tx_id
            WHERE w.amount_cents <> t.quantity * t.price_cents
            """
        ).int(0, 0)
        XCTAssertEqual(
            mismatched, 0, "wallet amount = quantity × stock_price for every linked pair", file: file, line: line)
        let past = try db.query(
            """
            SELECT (SELECT count(*) FROM accounts WHERE cash_cents + reserved_cents + incoming_cents > $1)
                 + (SELECT count(*) FROM holdings WHERE quantity + reserved + incoming > $2)
            """, [LedgerBounds.maxBalanceCents, LedgerBounds.maxHoldingShares]
        ).int(0, 0)
        XCTAssertEqual(past, 0, "balances within LedgerBounds", file: file, line: line)
    }

    /// With the engine idle: each account's incoming cents equal what its resting sells can
    /// earn, each holding's incoming shares what its resting buys can bring.
    static func headroomMatchesRestingOrders(file: StaticString = #filePath, line: UInt = #line) throws {
        let db = try PTEnv.pg()
        let cash = try db.query(
            """
            SELECT count(*) FROM accounts a LEFT JOIN (
                SELECT user_id, SUM(remaining * price_cents) v FROM stock_transactions
                WHERE parent_id IS NULL AND NOT is_buy AND status IN ('IN_PROGRESS', 'PARTIALLY_COMPLETE') GROUP BY user_id
            ) r ON r.user_id = a.user_id WHERE a.incoming_cents <> COALESCE(r.v, 0)
            """
        ).int(0, 0)
        XCTAssertEqual(cash, 0, "accounts whose incoming differs from their resting sells", file: file, line: line)
        let shares = try db.query(
            """
            SELECT count(*) FROM holdings h LEFT JOIN (
                SELECT user_id, stock_id, SUM(remaining) v FROM stock_transactions
                WHERE parent_id IS NULL AND is_buy AND status IN ('IN_PROGRESS', 'PARTIALLY_COMPLETE') GROUP BY user_id, stock_id
            ) r ON r.user_id = h.user_id AND r.stock_id = h.stock_id WHERE h.incoming <> COALESCE(r.v, 0)
            """
        ).int(0, 0)
        XCTAssertEqual(shares, 0, "holdings whose incoming differs from their resting buys", file: file, line: line)
    }
}
