import Foundation
import ServiceCore
import XCTest

/// /authentication/register and /login through nginx → gateway → auth, against the test stack.
final class AuthTests: XCTestCase {
    func testRegisterThenLoginGivesAVerifiableToken() throws {
        let ep = try EdgeEnv.nginx()
        let user = EdgeEnv.uniqueName("auth")
        let reg = try EdgeHTTP.register(ep, user, "Wayne-pass_1$(x)", name: "Wayne Gonzalez")
        XCTAssertEqual(reg.status, 200)
        XCTAssertEqual(reg.text, #"{"success":true,"data":null}"#)

        let log = try EdgeHTTP.login(ep, user, "Wayne-pass_1$(x)")
        XCTAssertEqual(log.status, 200)
        XCTAssertEqual(log.json?["success"], .bool(true))
        let token = try XCTUnwrap(log.json?["data"]?["token"]?.stringValue)
        let claims = try JWT(secret: EdgeEnv.jwtSecret()).verify(token, nowSeconds: EdgeJWT.nowSeconds)
        XCTAssertEqual(claims.name, user)
        XCTAssertEqual(claims.role, "user")
        XCTAssertNotNil(Int64(claims.subject), "sub is the numeric users.id")
        // Default lifetime 2 h: must outlive a load run, but not be unlimited.
        XCTAssertGreaterThanOrEqual(claims.expiresAt - claims.issuedAt, 3600)
        XCTAssertLessThanOrEqual(claims.expiresAt - claims.issuedAt, 86_400)

        // The token works on a protected route and names the same user id.
        let me = try EdgeHTTP.whoami(ep, token: token)
        XCTAssertEqual(me.status, 200)
        XCTAssertEqual(me.json?["data"]?["user_id"]?.stringValue, claims.subject)
        XCTAssertEqual(me.json?["data"]?["user_name"]?.stringValue, user)
    }

    func testDuplicateRegistrationIs400() throws {
        let ep = try EdgeEnv.nginx()
        let user = EdgeEnv.uniqueName("dup")
        XCTAssertEqual(try EdgeHTTP.register(ep, user, "first-password").status, 200)
        let again = try EdgeHTTP.register(ep, user, "second-password")
        XCTAssertEqual(again.status, 400)
        XCTAssertTrue(again.isErrorEnvelope, again.text)
        // The first password still holds; the second never replaced it.
        XCTAssertEqual(try EdgeHTTP.login(ep, user, "first-password").status, 200)
        XCTAssertEqual(try EdgeHTTP.login(ep, user, "second-password").status, 400)
    }

    func testWrongPasswordAndUnknownUserAnswerIdentically() throws {
        let ep = try EdgeEnv.nginx()
        let user = EdgeEnv.uniqueName("who")
        XCTAssertEqual(try EdgeHTTP.register(ep, user, "right-password").status, 200)
        let wrong = try EdgeHTTP.login(ep, user, "wrong-password")
        let unknown = try EdgeHTTP.login(ep, EdgeEnv.uniqueName("ghost"), "right-password")
        XCTAssertEqual(wrong.status, 400, "the plans expect 400, not 401")
        XCTAssertEqual(unknown.status, 400)
        XCTAssertTrue(wrong.isErrorEnvelope)
        XCTAssertEqual(wrong.body, unknown.body, "no hint whether the user or the password was wrong")
    }

    func testRegisterRejectsMalformedBodies() throws {
        let ep = try EdgeEnv.nginx()
        let u = EdgeEnv.uniqueName("bad")
        let long = String(repeating: "a", count: 65)
        let cases: [(String, String)] = [
            ("missing user_name", #"{"password":"pw-123456","name":"N"}"#),
            ("missing password", #"{"user_name":"\#(u)","name":"N"}"#),
            ("missing name", #"{"user_name":"\#(u)","password":"pw-123456"}"#),
            ("empty user_name", #"{"user_name":"","password":"pw-123456","name":"N"}"#),
            ("empty password", #"{"user_name":"\#(u)","password":"","name":"N"}"#),
            ("empty name", #"{"user_name":"\#(u)","password":"pw-123456","name":""}"#),
            ("numeric user_name", #"{"user_name":123,"password":"pw-123456","name":"N"}"#),
            ("null password", #"{"user_name":"\#(u)","password":null,"name":"N"}"#),
            ("array name", #"{"user_name":"\#(u)","password":"pw-123456","name":["N"]}"#),
            ("object password", #"{"user_name":"\#(u)","password":{"a":1},"name":"N"}"#),
            ("user_name too long", #"{"user_name":"\#(long)","password":"pw-123456","name":"N"}"#),
            (
                "password too long",
                #"{"user_name":"\#(u)","password":"\#(String(repeating: "p", count: 257))","name":"N"}"#
            ),
            (
                "name too long",
                #"{"user_name":"\#(u)","password":"pw-123456","name":"\#(String(repeating: "n", count: 129))"}"#
            ),
            ("control character", #"{"user_name":"\#(u)\n","password":"pw-123456","name":"N"}"#),
            ("not JSON", "user_name=\(u)&password=x"),
            ("JSON array", #"["\#(u)","pw-123456","N"]"#),
            ("empty body", ""),
        ]
        for (label, body) in cases {
            let r = try EdgeHTTP.call(ep, "POST", "/authentication/register", body: body)
            XCTAssertEqual(r.status, 400, "\(label): \(r.text)")
            XCTAssertTrue(r.isErrorEnvelope, "\(label): \(r.text)")
        }
        // None of them created the user.
        XCTAssertEqual(try EdgeHTTP.login(ep, u, "pw-123456").status, 400)
        XCTAssertEqual(try EdgeHTTP.register(ep, u, "pw-123456").status, 200)
    }

    func testLoginRejectsMalformedBodies() throws {
        let ep = try EdgeEnv.nginx()
        for body in [
            #"{"user_name":"x"}"#, #"{"password":"x"}"#, #"{"user_name":1,"password":"x"}"#,
            #"{"user_name":"x","password":false}"#, "[]", "nonsense", "",
        ] {
            let r = try EdgeHTTP.call(ep, "POST", "/authentication/login", body: body)
            XCTAssertEqual(r.status, 400, "\(body): \(r.text)")
            XCTAssertTrue(r.isErrorEnvelope, "\(body): \(r.text)")
            XCTAssertNil(r.json?["data"]?["token"])
        }
    }

    func testConcurrentRegistrationsOfOneNameCreateOneUser() throws {
        let ep = try EdgeEnv.nginx()
        let user = EdgeEnv.uniqueName("race")
        let statuses = EdgeStatusList()
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            statuses.append((try? EdgeHTTP.register(ep, user, "password-\(i)").status) ?? -1)
        }
        let all = statuses.values.sorted()
        XCTAssertEqual(all.filter { $0 == 200 }.count, 1, "\(all)")
        XCTAssertEqual(all.filter { $0 == 400 }.count, 7, "\(all)")
        let db = try PGConnection(try EdgeEnv.require("DT_TEST_PG"))
        XCTAssertEqual(try db.query("SELECT count(*) FROM users WHERE user_name = $1", [user]).int(0, 0), 1)
    }

    func testPasswordsAreStoredAsSaltedPBKDF2() throws {
        let ep = try EdgeEnv.nginx()
        let a = EdgeEnv.uniqueName("hash")
        let b = EdgeEnv.uniqueName("hash")
        let password = "same-password-for-both"
        XCTAssertEqual(try EdgeHTTP.register(ep, a, password).status, 200)
        XCTAssertEqual(try EdgeHTTP.register(ep, b, password).status, 200)
        let db = try PGConnection(try EdgeEnv.require("DT_TEST_PG"))
        let rows = try db.query("SELECT password_hash FROM users WHERE user_name = $1 OR user_name = $2", [a, b])
        XCTAssertEqual(rows.count, 2)
        let hashes = (0..<rows.count).compactMap { rows.string($0, 0) }
        for h in hashes {
            let parts = h.split(separator: "$", omittingEmptySubsequences: false)
            XCTAssertEqual(parts.count, 4, h)
            XCTAssertEqual(parts.first, "pbkdf2-sha256", h)
            let iterations = parts.count == 4 ? Int(parts[1]) ?? 0 : 0
            XCTAssertGreaterThanOrEqual(iterations, 1000, h)
            XCTAssertGreaterThanOrEqual(
                parts.count == 4 ? Base64.decode(String(parts[2]))?.count ?? 0 : 0, 16, "salt ≥ 16 bytes")
            XCTAssertFalse(h.contains(password))
            // The stored hash is what PBKDF2-HMAC-SHA256 gives for this password and salt.
            if parts.count == 4, let salt = Base64.decode(String(parts[2])),
                let digest = Base64.decode(String(parts[3]))
            {
                XCTAssertEqual(
                    Crypto.pbkdf2(
                        password: Array(password.utf8), salt: salt, iterations: iterations, length: digest.count),
                    digest)
            }
        }
        XCTAssertNotEqual(hashes.first, hashes.last, "same password, different salts")
    }

    func testAdminUserExistsWithAdminRole() throws {
        let ep = try EdgeEnv.nginx()
        guard let password = EdgeEnv.adminPassword() else {
            XCTFail(
                "neither DT_TEST_ADMIN_PASSWORD nor $DT_TEST_STATE/admin-password is set (the contract has scripts/up generate it)"
            )
            return
        }
        let log = try EdgeHTTP.login(ep, "admin", password)
        XCTAssertEqual(log.status, 200, log.text)
        let token = try XCTUnwrap(log.json?["data"]?["token"]?.stringValue)
        let me = try EdgeHTTP.whoami(ep, token: token)
        XCTAssertEqual(me.json?["data"]?["role"]?.stringValue, "admin")
        XCTAssertEqual(me.json?["data"]?["user_name"]?.stringValue, "admin")
        XCTAssertEqual(try EdgeHTTP.login(ep, "admin", "admin-dev-password-wrong").status, 400)
    }

    /// Cost of one hash at the service default (`auth --bench-hash`), printed for the record.
    func testHashBenchReportsCostPerHash() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try EdgeEnv.binary("auth"))
        p.arguments = ["--bench-hash"]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        print("auth --bench-hash: \(text)")
        XCTAssertEqual(p.terminationStatus, 0)
        let ms = text.split(separator: " ").firstIndex(of: "ms/hash").flatMap { i in
            Double(text.split(separator: " ")[i - 1])
        }
        let cost = try XCTUnwrap(ms, text)
        XCTAssertGreaterThan(cost, 0.05, "a hash that cheap would not slow down guessing")
        XCTAssertLessThan(cost, 50, "far above the ~1–2 ms budget")
    }

    /// Register + login per second through nginx with a few client threads (debug build: a
    /// correctness run with a number attached; release figures come from the load tools).
    func testRegisterAndLoginThroughput() throws {
        let ep = try EdgeEnv.nginx()
        let threads = 8
        let perThread = 25
        let failures = EdgeStatusList()
        let prefix = EdgeEnv.uniqueName("tp")
        let start = Clock.monotonicNanos()
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            for i in 0..<perThread {
                let user = "\(prefix)_\(t)_\(i)"
                let reg = (try? EdgeHTTP.register(ep, user, "load-password-\(i)").status) ?? -1
                let log = (try? EdgeHTTP.login(ep, user, "load-password-\(i)").status) ?? -1
                if reg != 200 { failures.append(reg) }
                if log != 200 { failures.append(log) }
            }
        }
        let seconds = Double(Clock.monotonicNanos() - start) / 1e9
        let users = Double(threads * perThread)
        print(
            String(
                format: "register+login: %d users in %.2f s = %.0f users/s (%.0f requests/s), %d client threads",
                threads * perThread, seconds, users / seconds, 2 * users / seconds, threads))
        XCTAssertEqual(failures.values, [], "every register and login succeeds")
    }
}

/// A thread-safe list of ints for the concurrent tests.
final class EdgeStatusList: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [Int] = []
    func append(_ v: Int) {
        lock.lock()
        items.append(v)
        lock.unlock()
    }
    var values: [Int] {
        lock.lock()
        defer { lock.unlock() }
        return items
    }
}
