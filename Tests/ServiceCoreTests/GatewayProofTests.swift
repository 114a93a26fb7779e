import Foundation
import XCTest

@testable import ServiceCore

/// The per-request proof services demand from the gateway, and the gate that checks it before routing.
final class GatewayProofTests: XCTestCase {
    private let proof = GatewayProof(key: "unit-test-key")!
    private let identity = [
        ("x-user-id", "7"), ("x-user-name", "alice"), ("x-user-role", "user"), ("x-request-id", "r-1"),
        ("x-real-ip", "192.0.2.1"),
    ]

    private func request(
        _ headers: [(String, String)], _ method: String = "POST", _ path: String = "/classic/BUY",
        query: String = ""
    ) -> HTTPRequest {
        HTTPRequest(
            method: method, path: path, query: query, headers: headers.map { (name: $0.0.lowercased(), value: $0.1) })
    }

    func testMatchesTheDocumentedFormat() {
        let at: Int64 = 1_700_000_000_123
        let message = "POST\n/classic/BUY?x=1\n7\nalice\nuser\nr-1\n192.0.2.1\n\(at)"
        let mac = Crypto.hmacSHA256(key: Array("unit-test-key".utf8), data: Array(message.utf8))
        XCTAssertEqual(
            proof.sign(method: "POST", target: "/classic/BUY?x=1", headers: identity, atMillis: at),
            "\(at)." + GatewayProof.hex(mac))
    }

    func testASignedRequestVerifies() {
        let signed = proof.signed(method: "POST", target: "/classic/BUY?x=1", headers: identity)
        XCTAssertEqual(proof.verify(request(signed, "POST", "/classic/BUY", query: "x=1")), .valid)
        // Header names are compared case-insensitively when signing (they arrive lower-cased).
        let mixed = proof.signed(method: "GET", target: "/a", headers: [("X-User-Id", "7")])
        XCTAssertEqual(proof.verify(request(mixed, "GET", "/a")), .valid)
    }

    func testEveryCoveredPartIsBound() {
        let signed = proof.signed(method: "POST", target: "/classic/BUY", headers: identity)
        func swap(_ name: String, _ value: String) -> [(String, String)] {
            signed.map { $0.0 == name ? ($0.0, value) : $0 }
        }
        XCTAssertEqual(proof.verify(request(signed, "GET", "/classic/BUY")), .mismatch, "method")
        XCTAssertEqual(proof.verify(request(signed, "POST", "/classic/SELL")), .mismatch, "path")
        XCTAssertEqual(proof.verify(request(signed, "POST", "/classic/BUY", query: "a=1")), .mismatch, "query")
        for (name, value) in [
            ("x-user-id", "1"), ("x-user-name", "admin"), ("x-user-role", "admin"), ("x-request-id", "r-2"),
            ("x-real-ip", "198.51.100.9"),
        ] {
            XCTAssertEqual(proof.verify(request(swap(name, value))), .mismatch, name)
        }
        XCTAssertEqual(proof.verify(request(signed.filter { $0.0 != "x-user-role" })), .mismatch, "dropped header")
        XCTAssertEqual(GatewayProof(key: "other-key")!.verify(request(signed)), .mismatch, "another key")
    }

    func testMissingMalformedStaleAndRepeated() {
        XCTAssertEqual(proof.verify(request(identity)), .missing)
        for bad in ["", "abc", "123", "123.", "x.00", "123.zz", "123." + String(repeating: "ab", count: 31)] {
            XCTAssertEqual(proof.verify(request(identity + [(GatewayProof.header, bad)])), .malformed, bad)
        }
        let now: Int64 = 1_700_000_000_000
        let old = proof.sign(method: "POST", target: "/classic/BUY", headers: identity, atMillis: now - 61_000)
        XCTAssertEqual(proof.verify(request(identity + [(GatewayProof.header, old)]), nowMillis: now), .stale)
        let ahead = proof.sign(method: "POST", target: "/classic/BUY", headers: identity, atMillis: now + 61_000)
        XCTAssertEqual(proof.verify(request(identity + [(GatewayProof.header, ahead)]), nowMillis: now), .stale)
        let edge = proof.sign(method: "POST", target: "/classic/BUY", headers: identity, atMillis: now - 59_000)
        XCTAssertEqual(proof.verify(request(identity + [(GatewayProof.header, edge)]), nowMillis: now), .valid)
        let signed = proof.signed(method: "POST", target: "/classic/BUY", headers: identity)
        XCTAssertEqual(proof.verify(request(signed + [("x-user-id", "1")])), .duplicateHeader("x-user-id"))
        XCTAssertEqual(
            proof.verify(request(signed + [(GatewayProof.header, "1.00")])), .duplicateHeader(GatewayProof.header))
    }

    func testNoEmptyKey() {
        XCTAssertNil(GatewayProof(key: ""))
        XCTAssertNil(GatewayProof.fromEnvironment("DT_UNSET_FOR_TEST", [:]))
    }

    /// The gate runs before routing on a real server: 401 JSON without the proof, /health open,
    /// and a signing HTTPClient gets through.
    func testGateOnAServer() throws {
        let server = try TestServer { router in
            router.get("/who") { req, _ in .json(.string(req.header("x-user-id") ?? "")) }
            router.get("/health", mode: .inline) { _, _ in .json(.string("ok")) }
            let gate = CallerGate(policy: .gatewayOnly, proof: proof)
            router.gate = { gate.refusal($0) }
        }
        defer { server.stop() }
        let ep = Endpoint(host: "127.0.0.1", port: server.port)
        let plain = HTTPClient()
        let refused = try plain.request(ep, method: "GET", path: "/who", headers: [("x-user-id", "1")])
        XCTAssertEqual(refused.status, 401)
        XCTAssertEqual(try refused.json()["success"], .bool(false))
        XCTAssertNotNil(try refused.json()["data"]?["error"]?.stringValue)
        XCTAssertEqual(try plain.request(ep, method: "GET", path: "/nowhere").status, 401, "unknown routes too")
        XCTAssertEqual(try plain.request(ep, method: "GET", path: "/health").status, 200)
        let signed = try HTTPClient(signer: proof).request(
            ep, method: "GET", path: "/who", headers: [("x-user-id", "7")])
        XCTAssertEqual(signed.status, 200)
        XCTAssertEqual(try signed.json(), .string("7"))
    }

    func testPublicEdgePolicyGuardsOnlyItsPrefixes() {
        let gate = CallerGate(policy: .publicExcept(["/metrics", "/gateway/"]), proof: proof)
        XCTAssertNil(gate.refusal(request([], "POST", "/authentication/login")))
        XCTAssertEqual(gate.refusal(request([], "GET", "/metrics"))?.status, 401)
        XCTAssertEqual(gate.refusal(request([], "GET", "/gateway/status"))?.status, 401)
        XCTAssertNil(
            gate.refusal(
                request(proof.signed(method: "GET", target: "/gateway/status", headers: []), "GET", "/gateway/status")))
        XCTAssertNil(CallerGate(policy: .anyone, proof: proof).refusal(request([], "GET", "/metrics")))
    }
}
