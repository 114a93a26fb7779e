import Foundation
import Ledger
import ServiceCore
import XCTest

/// One identity per user: names that look alike (whitespace, Unicode normalisation, invisible or
/// full-width characters) can neither be registered nor log in, a token carrying such a name is
/// refused, and a classic command acts only on the caller's own account.
final class IdentityTests: XCTestCase {
    /// Variants of `base` that must never become (or reach) an account of their own.
    static func lookAlikes(_ base: String) -> [(String, String)] {
        [
            ("trailing space", base + " "), ("leading space", " " + base), ("tab", base + "\t"),
            ("no-break space", base + "\u{00A0}"), ("zero-width space", base + "\u{200B}"),
            ("NFD e + combining acute", base + "e\u{0301}"), ("NFC é", base + "\u{00E9}"),
            ("full-width letter", base + "\u{FF41}"), ("Cyrillic a", base + "\u{0430}"),
            ("empty", ""), ("65 bytes", String(repeating: "a", count: 65)), ("slash", base + "/x"),
        ]
    }

    func testLookAlikeNamesAreRefusedAtRegisterAndLogin() throws {
        let ep = try EdgeEnv.nginx()
        let base = EdgeEnv.uniqueName("alice")
        XCTAssertEqual(try EdgeHTTP.register(ep, base, "right-password-1").status, 200)
        for (what, name) in Self.lookAlikes(base) {
            let reg = try EdgeHTTP.register(ep, name, "another-password")
            XCTAssertEqual(reg.status, 400, "register \(what): \(reg.text)")
            XCTAssertTrue(reg.isErrorEnvelope, "register \(what): JSON error body")
            let login = try EdgeHTTP.login(ep, name, "right-password-1")
            XCTAssertEqual(login.status, 400, "login \(what): \(login.text)")
        }
        let db = try PTEnv.pg()
        XCTAssertEqual(
            try db.query("SELECT count(*) FROM users WHERE user_name LIKE $1", [base + "%"]).int(0, 0), 1,
            "only the real name exists")
        XCTAssertEqual(try EdgeHTTP.login(ep, base, "right-password-1").status, 200)
    }

    /// A look-alike stored before the rule existed cannot sign in, and a token naming it
    /// (even correctly signed) gets no identity at the gateway.
    func testAStoredLookAlikeGetsNoTokenAndNoAccess() throws {
        let ep = try EdgeEnv.nginx()
        let victim = EdgeEnv.uniqueName("victim")
        XCTAssertEqual(try EdgeHTTP.register(ep, victim, "victim-password").status, 200)
        let db = try PTEnv.pg()
        let stored = try db.query("SELECT password_hash FROM users WHERE user_name = $1", [victim]).string(0, 0)
        let lookAlike = victim + " "
        let id = try XCTUnwrap(
            try db.query(
                "INSERT INTO users (user_name, password_hash) VALUES ($1, $2) RETURNING id",
                [lookAlike, stored]
            ).int64(0, 0))
        XCTAssertEqual(try EdgeHTTP.login(ep, lookAlike, "victim-password").status, 400)
        let now = Clock.wallMillis() / 1000
        let token = JWT(secret: try EdgeEnv.jwtSecret()).sign(
            JWTClaims(
                subject: String(id), name: lookAlike, role: "user",
                issuedAt: now, expiresAt: now + 600))
        let r = try EdgeHTTP.call(ep, "POST", "/classic/DISPLAY_SUMMARY", headers: [("token", token)], body: "{}")
        XCTAssertEqual(r.status, 401, r.text)
        let w = try EdgeHTTP.call(ep, "GET", "/transaction/getWalletBalance", headers: [("token", token)])
        XCTAssertEqual(w.status, 401, w.text)
    }

    func testClassicCommandsActOnlyOnTheCallersOwnAccount() throws {
        let ep = try EdgeEnv.nginx()
        let (alice, aliceToken) = try EdgeHTTP.newUser(ep, prefix: "ida")
        let (bob, bobToken) = try EdgeHTTP.newUser(ep, prefix: "idb")
        func classic(_ token: String, _ command: String, _ fields: [(String, JSON)]) throws -> EdgeResponse {
            try EdgeHTTP.call(
                ep, "POST", "/classic/" + command, headers: [("token", token)], body: EdgeHTTP.json(.object(fields)))
        }
        XCTAssertEqual(try classic(bobToken, "ADD", [("amount", .string("10.00"))]).status, 200)
        XCTAssertEqual(
            try classic(aliceToken, "ADD", [("userid", .string(bob)), ("amount", .string("1.00"))]).status, 403)
        XCTAssertEqual(try classic(aliceToken, "DISPLAY_SUMMARY", [("userid", .string(bob))]).status, 403)
        XCTAssertEqual(try classic(aliceToken, "DUMPLOG", [("userid", .string(bob))]).status, 403)
        XCTAssertEqual(
            try classic(aliceToken, "ADD", [("userid", .string(alice.uppercased())), ("amount", .string("1.00"))])
                .status,
            403, "another case is another user")
        for (what, name) in Self.lookAlikes(alice)
        where !name.isEmpty && name.trimmingCharacters(in: .init(charactersIn: " \t")) != alice {
            let r = try classic(aliceToken, "ADD", [("userid", .string(name)), ("amount", .string("1.00"))])
            XCTAssertTrue([400, 403].contains(r.status), "\(what): \(r.status) \(r.text)")
        }
        // Surrounding blanks are trimmed: the caller's own account, nobody else's.
        let own = try classic(aliceToken, "ADD", [("userid", .string(alice + " ")), ("amount", .string("2.00"))])
        XCTAssertEqual(own.status, 200, own.text)
        let db = try PTEnv.pg()
        func cash(_ name: String) throws -> Int64? {
            try db.query(
                "SELECT a.cash_cents FROM accounts a JOIN users u ON u.id = a.user_id WHERE u.user_name = $1", [name]
            ).int64(0, 0)
        }
        XCTAssertEqual(try cash(bob), 1000, "bob's account untouched")
        XCTAssertEqual(try cash(alice), 200)
        try PTLedger.conservation()
    }
}
