import Foundation
import Ledger
import ServiceCore
import XCTest

/// Loopback is not trusted: every service port wants the gateway's proof (GatewayProof) for
/// anything but GET /health, whatever x-user-* headers a local client forges.
final class ServiceTrustTests: XCTestCase {
    private struct Target {
        let service: String
        let port: Int
        let method: String
        let path: String
        var body: String? = nil
    }

    /// Identity-bearing, public, internal and metrics routes of every HTTP service port.
    private let targets: [Target] =
        [
            Target(service: "auth", port: 8100, method: "GET", path: "/authentication/whoami"),
            Target(
                service: "auth", port: 8100, method: "POST", path: "/authentication/login",
                body: #"{"user_name":"admin","password":"x"}"#),
            Target(
                service: "buy", port: 8200, method: "POST", path: "/classic/BUY",
                body: #"{"stock":"ABC","amount":"1.00"}"#),
            Target(
                service: "sell", port: 8300, method: "POST", path: "/classic/SELL",
                body: #"{"stock":"ABC","amount":"1.00"}"#),
            Target(
                service: "user-utilities", port: 8400, method: "POST", path: "/classic/DUMPLOG",
                body: #"{"filename":"x"}"#),
            Target(service: "user-utilities", port: 8400, method: "GET", path: "/classic-stats"),
            Target(service: "quote-server", port: 8500, method: "GET", path: "/quote?symbol=ABC&user=admin"),
            Target(service: "quote-server", port: 8500, method: "GET", path: "/stats"),
            Target(service: "matching-engine", port: 8600, method: "GET", path: "/transaction/getWalletBalance"),
            Target(service: "matching-engine", port: 8600, method: "GET", path: "/internal/books"),
            Target(service: "trigger-worker", port: 8700, method: "GET", path: "/trigger-stats"),
            Target(service: "trigger-worker", port: 8700, method: "GET", path: "/classic-stats"),
            Target(service: "gateway", port: 8080, method: "GET", path: "/gateway/status"),
            Target(service: "gateway", port: 8081, method: "GET", path: "/gateway/status"),
        ]
        + [8100, 8200, 8300, 8400, 8500, 8600, 8700, 8080].map {
            Target(service: "port \($0)", port: $0, method: "GET", path: "/metrics")
        }

    private let forged: [(String, String)] = [
        ("x-user-id", "1"), ("x-user-name", "admin"), ("x-user-role", "admin"),
        ("x-request-id", "forged"),
    ]

    private func key() throws -> GatewayProof {
        guard let proof = GatewayProof.fromEnvironment("DT_TEST_INTERNAL_KEY") else {
            throw EdgeEnvMissing(description: try EdgeEnv.require("DT_TEST_INTERNAL_KEY") + " is not a usable key")
        }
        return proof
    }

    private func send(_ t: Target, _ headers: [(String, String)]) throws -> EdgeResponse {
        try EdgeHTTP.call(try EdgeEnv.service(defaultPort: t.port), t.method, t.path, headers: headers, body: t.body)
    }

    func testForgedIdentityWithoutAValidProofIs401OnEveryServicePort() throws {
        let proof = try key()
        let now = Clock.wallMillis()
        let otherKey = try XCTUnwrap(GatewayProof(key: "not-the-stack-key"))
        for t in targets {
            let asSent = { (p: String) in self.forged + [(GatewayProof.header, p)] }
            let cases: [(String, [(String, String)])] = [
                ("no proof", forged),
                ("garbage proof", asSent("12345.zz")),
                ("wrong key", asSent(otherKey.sign(method: t.method, target: t.path, headers: forged))),
                (
                    "stale (2 min old)",
                    asSent(proof.sign(method: t.method, target: t.path, headers: forged, atMillis: now - 120_000))
                ),
                (
                    "future (2 min ahead)",
                    asSent(proof.sign(method: t.method, target: t.path, headers: forged, atMillis: now + 120_000))
                ),
                (
                    "signed for another user",
                    asSent(
                        proof.sign(
                            method: t.method, target: t.path,
                            headers: [("x-user-id", "2"), ("x-user-name", "someone")]))
                ),
                ("signed for another path", asSent(proof.sign(method: t.method, target: "/health", headers: forged))),
                (
                    "signed for another method",
                    asSent(proof.sign(method: t.method == "GET" ? "POST" : "GET", target: t.path, headers: forged))
                ),
                (
                    "second identity header",
                    proof.signed(method: t.method, target: t.path, headers: forged) + [("x-user-id", "3")]
                ),
            ]
            for (label, headers) in cases {
                let r = try send(t, headers)
                XCTAssertEqual(r.status, 401, "\(t.service) \(t.method) \(t.path), \(label): \(r.text)")
                XCTAssertTrue(r.isErrorEnvelope, "\(t.service) \(t.path), \(label): JSON error body, got \(r.text)")
            }
        }
    }

    func testHealthStaysOpenOnEveryPort() throws {
        for port in [8100, 8200, 8300, 8400, 8500, 8600, 8700, 8080, 8081, 8900] {
            let r = try EdgeHTTP.call(try EdgeEnv.service(defaultPort: port), "GET", "/health", headers: forged)
            XCTAssertEqual(r.status, 200, "port \(port): \(r.text)")
        }
    }

    func testCorrectlySignedRequestsAreServed() throws {
        let proof = try key()
        for t in targets
        where t.method == "GET" && t.path != "/authentication/whoami" && t.path != "/transaction/getWalletBalance" {
            let r = try send(t, proof.signed(method: t.method, target: t.path, headers: []))
            XCTAssertEqual(r.status, 200, "\(t.service) \(t.path): \(r.text)")
        }
        // The signed identity is the one the service acts on.
        let ep = try EdgeEnv.nginx()
        let (user, token) = try EdgeHTTP.newUser(ep, prefix: "trust")
        let id = try XCTUnwrap(EdgeHTTP.whoami(ep, token: token).json?["data"]?["user_id"]?.stringValue)
        let identity = [
            ("x-user-id", id), ("x-user-name", user), ("x-user-role", "user"), ("x-request-id", "trust-test"),
        ]
        let auth = try EdgeEnv.service(defaultPort: 8100)
        let me = try EdgeHTTP.call(
            auth, "GET", "/authentication/whoami",
            headers: proof.signed(method: "GET", target: "/authentication/whoami", headers: identity))
        XCTAssertEqual(me.status, 200, me.text)
        XCTAssertEqual(me.json?["data"]?["user_name"]?.stringValue, user)
        let engine = try EdgeEnv.service(defaultPort: 8600)
        let balance = try EdgeHTTP.call(
            engine, "GET", "/transaction/getWalletBalance",
            headers: proof.signed(method: "GET", target: "/transaction/getWalletBalance", headers: identity))
        XCTAssertEqual(balance.status, 200, balance.text)
    }

    /// The gateway strips whatever proof a client sends and signs its own.
    func testClientSentProofIsNotForwarded() throws {
        let ep = try EdgeEnv.nginx()
        let (user, token) = try EdgeHTTP.newUser(ep, prefix: "trustfw")
        let bogus = try key().sign(method: "GET", target: "/authentication/whoami", headers: forged)
        let me = try EdgeHTTP.whoami(ep, token: token, extra: forged + [(GatewayProof.header, bogus)])
        XCTAssertEqual(me.status, 200, me.text)
        XCTAssertEqual(me.json?["data"]?["user_name"]?.stringValue, user)
        XCTAssertEqual(me.json?["data"]?["role"]?.stringValue, "user")
    }
}
