import Foundation
import Ledger
import ServiceCore
import XCTest

@testable import AuthCore

/// Register, login, throttling and re-hashing, called in-process (no binary spawned).
final class AuthHandlerTests: AuthHandlerTestCase {
    func testRegisterThenLoginSignsATokenForTheStoredId() throws {
        let user = Self.uniqueName("ah")
        XCTAssertEqual(try register(user, "pass-word-1"), 200)
        let (status, json) = try login(user, "pass-word-1")
        XCTAssertEqual(status, 200)
        let token = try XCTUnwrap(json?["data"]?["token"]?.stringValue)
        let claims = try JWT(secret: Self.secret).verify(token, nowSeconds: Clock.wallMillis() / 1000)
        let row = try ctx.postgres().query("SELECT id, password_hash FROM users WHERE user_name = $1", [user])
        XCTAssertEqual(claims.subject, row.int64(0, 0).map(String.init))
        XCTAssertEqual(claims.name, user)
        XCTAssertEqual(claims.expiresAt - claims.issuedAt, 600)
        // Only a salted hash is stored, never the password.
        let stored = try XCTUnwrap(row.string(0, 1))
        XCTAssertTrue(stored.hasPrefix("pbkdf2-sha256$64$"), stored)
        XCTAssertFalse(stored.contains("pass-word-1"))
    }

    func testDuplicateAndMalformedRegistrationsChangeNothing() throws {
        let user = Self.uniqueName("dup")
        XCTAssertEqual(try register(user, "first"), 200)
        XCTAssertEqual(try register(user, "second"), 400)
        XCTAssertEqual(try login(user, "first").status, 200)
        XCTAssertEqual(try login(user, "second").status, 400)

        let fresh = Self.uniqueName("bad")
        for body in [
            "", "[]", #"{"user_name":"\#(fresh)"}"#, #"{"user_name":"\#(fresh)","password":"x","name":7}"#,
            #"{"user_name":" \#(fresh)","password":"x","name":"n"}"#,
            #"{"user_name":"\#(fresh)","password":"x","name":"a\u0001b"}"#,
        ] {
            XCTAssertEqual(try call("POST", "/authentication/register", body).status, 400, body)
        }
        let rows = try ctx.postgres().query("SELECT count(*) FROM users WHERE user_name LIKE $1", ["%\(fresh)%"])
        XCTAssertEqual(rows.int64(0, 0), 0)
    }

    func testUnknownUserAndWrongPasswordGiveTheSameAnswer() throws {
        let user = Self.uniqueName("who")
        XCTAssertEqual(try register(user, "right"), 200)
        let wrong = try call("POST", "/authentication/login", #"{"user_name":"\#(user)","password":"wrong"}"#)
        let ghost = try call(
            "POST", "/authentication/login", #"{"user_name":"\#(Self.uniqueName("ghost"))","password":"right"}"#)
        XCTAssertEqual(wrong.status, 400)
        XCTAssertEqual(ghost.status, 400)
    }

    func testRepeatedFailuresBlockTheNameUntilTheBlockExpires() throws {
        let user = Self.uniqueName("thr")
        XCTAssertEqual(try register(user, "right"), 200)
        for _ in 0..<LoginThrottle.freeFailures { XCTAssertEqual(try login(user, "wrong").status, 400) }
        // Blocked now, even with the right password; the answer says when to retry.
        XCTAssertEqual(try login(user, "right").status, 429)
        // Lifting the block (as its expiry would) lets the right password in and clears the count.
        _ = try ctx.redis().command(["DEL"] + LoginThrottle.scopes(user, address: "").map(\.block))
        XCTAssertEqual(try login(user, "right").status, 200)
        XCTAssertEqual(try login(user, "wrong").status, 400)
        XCTAssertEqual(try login(user, "right").status, 200, "one failure after a success is not blocked")
    }

    private func login(_ user: String, _ password: String, from address: String) throws -> Int {
        try call(
            "POST", "/authentication/login", #"{"user_name":"\#(user)","password":"\#(password)"}"#,
            headers: [("x-real-ip", address)]
        ).status
    }

    func testAGuesserFromOneAddressCannotLockTheOwnerOut() throws {
        let user = Self.uniqueName("own")
        XCTAssertEqual(try register(user, "right"), 200)
        for _ in 0..<(LoginThrottle.freeFailures + 2) {
            XCTAssertNotEqual(try login(user, "guess", from: "192.0.2.7"), 200)
        }
        XCTAssertEqual(try login(user, "right", from: "192.0.2.7"), 429, "the guessing address is blocked")
        XCTAssertEqual(try login(user, "right", from: "198.51.100.1"), 200, "the owner, elsewhere, is not")
    }

    func testGuessesSpreadOverManyAddressesBlockTheNameEverywhere() throws {
        let user = Self.uniqueName("spr")
        XCTAssertEqual(try register(user, "right"), 200)
        // Each address stays under its own limit; together they reach the name's.
        for i in 0..<LoginThrottle.freeFailuresPerName {
            let address = "203.0.113.\(i / (LoginThrottle.freeFailures - 1))"
            XCTAssertEqual(try login(user, "guess", from: address), 400, "guess \(i) from \(address)")
        }
        XCTAssertEqual(try login(user, "right", from: "198.51.100.2"), 429, "the name is blocked from every address")
    }

    func testLoginRehashesAStoredHashOfAnotherCost() throws {
        let user = Self.uniqueName("re")
        let old = PasswordHasher(iterations: 32).hash("pw")
        try ctx.postgres().query(
            "INSERT INTO users (user_name, name, password_hash) VALUES ($1, 'Old', $2)", [user, old])
        XCTAssertEqual(try login(user, "pw").status, 200)
        let stored = try ctx.postgres().query("SELECT password_hash FROM users WHERE user_name = $1", [user]).string(
            0, 0)
        XCTAssertTrue(stored?.hasPrefix("pbkdf2-sha256$64$") ?? false, stored ?? "nil")
        XCTAssertEqual(try login(user, "pw").status, 200)
    }

    func testWhoamiEchoesOnlyForwardedIdentity() throws {
        XCTAssertEqual(try call("GET", "/authentication/whoami").status, 401)
        let (status, json) = try call(
            "GET", "/authentication/whoami", headers: [("x-user-id", "42"), ("x-user-name", "alice")])
        XCTAssertEqual(status, 200)
        XCTAssertEqual(json?["data"]?["user_id"], .string("42"))
        XCTAssertEqual(json?["data"]?["role"], .string("user"))
    }
}
