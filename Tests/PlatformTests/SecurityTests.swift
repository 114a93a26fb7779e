import Foundation
import ServiceCore
import XCTest

/// Token checks and identity forwarding through nginx → gateway, against the test stack.
final class SecurityTests: XCTestCase {
    private let protectedRoutes: [(String, String)] = [
        ("GET", "/transaction/getWalletBalance"), ("GET", "/transaction/getStockPrices"),
        ("POST", "/setup/createStock"), ("POST", "/engine/placeStockOrder"), ("POST", "/transaction/addMoneyToWallet"),
        ("POST", "/classic/ADD"), ("POST", "/classic/BUY"), ("POST", "/classic/SELL"),
        ("GET", "/authentication/whoami"),
    ]

    private func assert401(_ r: EdgeResponse, _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(r.status, 401, "\(label): \(r.text)", file: file, line: line)
        XCTAssertTrue(r.isErrorEnvelope, "\(label): \(r.text)", file: file, line: line)
    }

    func testProtectedRoutesWithoutTokenAre401() throws {
        let ep = try EdgeEnv.nginx()
        for (method, path) in protectedRoutes {
            assert401(try EdgeHTTP.call(ep, method, path, body: method == "POST" ? "{}" : nil), "\(method) \(path)")
            assert401(
                try EdgeHTTP.call(ep, method, path, headers: [("token", "")], body: method == "POST" ? "{}" : nil),
                "empty token")
        }
    }

    func testThePlansInvalidTokenIs401() throws {
        let ep = try EdgeEnv.nginx()
        for (method, path) in protectedRoutes {
            let r = try EdgeHTTP.call(
                ep, method, path, headers: [("token", "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9")],
                body: method == "POST" ? #"{"amount":100}"# : nil)
            assert401(r, "\(method) \(path)")
        }
    }

    func testForgedTokensAre401() throws {
        let ep = try EdgeEnv.nginx()
        let secret = try EdgeEnv.jwtSecret()
        let (user, token) = try EdgeHTTP.newUser(ep)
        let sub = try JWT(secret: secret).verify(token, nowSeconds: EdgeJWT.nowSeconds).subject
        let future = EdgeJWT.nowSeconds + 3600
        let hs256 = #"{"alg":"HS256","typ":"JWT"}"#
        let good = EdgeJWT.payload(sub: sub, name: user, exp: future)
        let parts = token.split(separator: ".").map(String.init)
        let forged: [(String, String)] = [
            ("wrong secret", EdgeJWT.signed(header: hs256, payload: good, secret: "not-the-secret")),
            (
                "expired",
                EdgeJWT.signed(
                    header: hs256, payload: EdgeJWT.payload(sub: sub, name: user, exp: EdgeJWT.nowSeconds - 5),
                    secret: secret)
            ),
            ("alg none, no signature", EdgeJWT.b64(#"{"alg":"none","typ":"JWT"}"#) + "." + EdgeJWT.b64(good) + "."),
            (
                "alg none, real HMAC",
                EdgeJWT.signed(header: #"{"alg":"none","typ":"JWT"}"#, payload: good, secret: secret)
            ),
            (
                "alg HS512 header",
                EdgeJWT.signed(header: #"{"alg":"HS512","typ":"JWT"}"#, payload: good, secret: secret)
            ),
            (
                "alg RS256 header",
                EdgeJWT.signed(header: #"{"alg":"RS256","typ":"JWT"}"#, payload: good, secret: secret)
            ),
            (
                "payload swapped to admin",
                parts[0] + "." + EdgeJWT.b64(EdgeJWT.payload(sub: "1", name: "admin", role: "admin", exp: future)) + "."
                    + parts[2]
            ),
            ("signature stripped", parts[0] + "." + parts[1] + "."),
            ("signature truncated", parts[0] + "." + parts[1] + "." + String(parts[2].dropLast(4))),
            (
                "no exp",
                EdgeJWT.signed(
                    header: hs256, payload: #"{"sub":"\#(sub)","name":"\#(user)","role":"user"}"#, secret: secret)
            ),
            ("two parts", parts[0] + "." + parts[1]),
            ("garbage", "not.a.jwt"),
        ]
        for (label, t) in forged {
            assert401(try EdgeHTTP.whoami(ep, token: t), label)
            assert401(
                try EdgeHTTP.call(
                    ep, "GET", "/transaction/getWalletBalance", headers: [("Authorization", "Bearer " + t)]),
                "bearer \(label)")
        }
        // The untouched token still works, in either header.
        XCTAssertEqual(try EdgeHTTP.whoami(ep, token: token).status, 200)
        XCTAssertEqual(
            try EdgeHTTP.call(ep, "GET", "/authentication/whoami", headers: [("Authorization", "Bearer " + token)])
                .status, 200)
    }

    func testAValidTokenForAUserTheLedgerLacksIs404AndChangesNothing() throws {
        // A signed, unexpired token whose user id the database does not have (a restored or reset
        // database, the signing key kept). Every write refuses it with a JSON 404 and writes
        // nothing; before, the writes got a 500 quoting PostgreSQL and createStock made a stock.
        let ep = try EdgeEnv.nginx()
        let ghost = EdgeJWT.signed(
            header: #"{"alg":"HS256","typ":"JWT"}"#,
            payload: EdgeJWT.payload(sub: "987654321", name: "ghostuser", exp: EdgeJWT.nowSeconds + 600),
            secret: try EdgeEnv.jwtSecret())
        let (_, owner) = try EdgeHTTP.newUser(ep, prefix: "ghostOwner")
        let ghostStock = EdgeEnv.uniqueName("GX")
        let stockName = EdgeEnv.uniqueName("GH")
        let made = try EdgeHTTP.call(
            ep, "POST", "/setup/createStock", headers: [("token", owner)], body: #"{"stock_name":"\#(stockName)"}"#)
        let stockId = try XCTUnwrap(made.json?["data"]?["stock_id"]?.stringValue, "\(made.status)")
        let writes: [(String, String)] = [
            ("/transaction/addMoneyToWallet", #"{"amount":5}"#),
            ("/setup/addStockToUser", #"{"stock_id":"\#(stockId)","quantity":5}"#),
            (
                "/engine/placeStockOrder",
                #"{"stock_id":"\#(stockId)","is_buy":false,"order_type":"LIMIT","quantity":1,"price":10}"#
            ),
            ("/setup/createStock", #"{"stock_name":"\#(ghostStock)"}"#),
        ]
        for (path, body) in writes {
            let r = try EdgeHTTP.call(ep, "POST", path, headers: [("token", ghost)], body: body)
            XCTAssertEqual(r.status, 404, "\(path): \(r.status) \(r.text)")
            XCTAssertEqual(r.json?["success"]?.boolValue, false, path)
            XCTAssertFalse(r.text.contains("postgres"), "\(path) quotes the database: \(r.text)")
        }
        let pg = try PTEnv.pg()
        XCTAssertEqual(try pg.query("SELECT count(*) FROM accounts WHERE user_id = 987654321").int64(0, 0), 0)
        XCTAssertEqual(try pg.query("SELECT count(*) FROM stocks WHERE name = $1", [ghostStock]).int64(0, 0), 0)
        // The engine still takes orders afterwards.
        XCTAssertEqual(
            try EdgeHTTP.call(
                ep, "POST", "/transaction/addMoneyToWallet", headers: [("token", owner)], body: #"{"amount":5}"#
            ).status, 200)
    }

    func testExpiredTokenSaysExpired() throws {
        let ep = try EdgeEnv.nginx()
        let expired = EdgeJWT.signed(
            header: #"{"alg":"HS256","typ":"JWT"}"#,
            payload: EdgeJWT.payload(sub: "1", name: "someone", exp: EdgeJWT.nowSeconds - 1),
            secret: try EdgeEnv.jwtSecret())
        let r = try EdgeHTTP.whoami(ep, token: expired)
        assert401(r, "expired")
        XCTAssertEqual(r.json?["data"]?["error"]?.stringValue, "token expired")
    }

    func testClientIdentityHeadersAreIgnored() throws {
        let ep = try EdgeEnv.nginx()
        let (victimName, victimToken) = try EdgeHTTP.newUser(ep, prefix: "victim")
        let victimId = try XCTUnwrap(EdgeHTTP.whoami(ep, token: victimToken).json?["data"]?["user_id"]?.stringValue)
        let (attacker, token) = try EdgeHTTP.newUser(ep, prefix: "attacker")
        let spoof = [
            ("x-user-id", victimId), ("x-user-name", victimName), ("x-user-role", "admin"), ("X-User-Id", "1"),
        ]
        let me = try EdgeHTTP.whoami(ep, token: token, extra: spoof)
        XCTAssertEqual(me.status, 200)
        XCTAssertEqual(me.json?["data"]?["user_name"]?.stringValue, attacker)
        XCTAssertNotEqual(me.json?["data"]?["user_id"]?.stringValue, victimId)
        XCTAssertEqual(me.json?["data"]?["role"]?.stringValue, "user")
        // Without a token the spoofed headers do not get anyone in either.
        assert401(try EdgeHTTP.whoami(ep, token: nil, extra: spoof), "spoofed headers only")
        // A public route does not pass them on: registering "as admin" gives an ordinary user.
        let name = EdgeEnv.uniqueName("plain")
        XCTAssertEqual(
            try EdgeHTTP.call(
                ep, "POST", "/authentication/register", headers: [("x-user-role", "admin")],
                body: #"{"user_name":"\#(name)","password":"pw-123456","name":"N"}"#
            ).status, 200)
        let t = try XCTUnwrap(EdgeHTTP.login(ep, name, "pw-123456").json?["data"]?["token"]?.stringValue)
        XCTAssertEqual(try EdgeHTTP.whoami(ep, token: t).json?["data"]?["role"]?.stringValue, "user")
    }

    func testEveryResponseCarriesItsOwnRequestId() throws {
        let ep = try EdgeEnv.nginx()
        let (_, token) = try EdgeHTTP.newUser(ep)
        let a = try EdgeHTTP.whoami(ep, token: token, extra: [("x-request-id", "client-chosen")])
        let b = try EdgeHTTP.whoami(ep, token: token)
        let idA = try XCTUnwrap(a.header("x-request-id"))
        let idB = try XCTUnwrap(b.header("x-request-id"))
        XCTAssertNotEqual(idA, idB)
        XCTAssertNotEqual(idA, "client-chosen", "the gateway makes its own ids")
        XCTAssertEqual(a.json?["data"]?["request_id"]?.stringValue, idA, "the upstream saw the same id")
        XCTAssertNotNil(try EdgeHTTP.whoami(ep, token: nil).header("x-request-id"), "errors carry one too")
    }

    func testUnknownPathsAre404JSON() throws {
        let ep = try EdgeEnv.nginx()
        let (_, token) = try EdgeHTTP.newUser(ep)
        for path in ["/classic/NOT_A_COMMAND", "/classic/", "/classic/add"] {
            let r = try EdgeHTTP.call(ep, "POST", path, headers: [("token", token)], body: "{}")
            XCTAssertEqual(r.status, 404, "\(path): \(r.text)")
            XCTAssertTrue(r.isErrorEnvelope, r.text)
        }
        // Straight to a gateway instance: paths outside every route.
        let gw = try EdgeEnv.service(defaultPort: 8080)
        for path in ["/", "/admin", "/gatewayx", "/authentication"] {
            let r = try EdgeHTTP.call(gw, "GET", path)
            XCTAssertEqual(r.status, 404, "\(path): \(r.text)")
            XCTAssertTrue(r.isErrorEnvelope, r.text)
        }
    }

    func testPublicRoutesNeedNoToken() throws {
        let gw = try EdgeEnv.service(defaultPort: 8081)
        XCTAssertEqual(try EdgeHTTP.call(gw, "GET", "/health").status, 200)
        XCTAssertEqual(try EdgeHTTP.call(gw, "GET", "/metrics").status, 401, "metrics only with the gateway proof")
        XCTAssertEqual(try EdgeHTTP.call(gw, "GET", "/metrics", signed: true).status, 200)
        let ep = try EdgeEnv.nginx()
        XCTAssertEqual(try EdgeHTTP.login(ep, EdgeEnv.uniqueName("nobody"), "x").status, 400, "reaches auth, not 401")
    }
}
