import ServiceCore
import XCTest

@testable import GatewayCore

final class UpstreamRequestTests: XCTestCase {
    func testOnlyForwardedHeadersGoOnAndTheProofVerifiesAtTheService() throws {
        let key = try XCTUnwrap(GatewayProof(key: "upstream-request-test"))
        let client = HTTPRequest(
            method: "POST", path: "/engine/placeStockOrder", query: "a=1",
            headers: [
                ("content-type", "application/json"), ("x-user-id", "1"), ("x-gateway-proof", "forged"),
                ("idempotency-key", "k1"), ("cookie", "c"),
            ], body: Array("{}".utf8))
        let upstream = UpstreamRequest(
            client, identity: Identity(userId: "42", userName: "alice", role: "user"), clientIP: "10.0.0.1",
            requestId: "rid-1", signer: key)
        XCTAssertEqual(
            upstream.headers.map(\.0),
            [
                "content-type", "idempotency-key", "x-user-id", "x-user-name", "x-user-role",
                "x-request-id", "x-real-ip", "x-gateway-proof",
            ])
        XCTAssertTrue(upstream.hasIdempotencyKey)
        XCTAssertFalse(upstream.isSafe)
        // What the service parses from the wire: the same method, target and headers.
        let seen = HTTPRequest(
            method: "POST", path: "/engine/placeStockOrder", query: "a=1",
            headers: upstream.headers.map { (name: $0.0, value: $0.1) })
        XCTAssertEqual(key.verify(seen), .valid)
        var tampered = seen
        tampered.headers[2] = (name: "x-user-id", value: "43")
        XCTAssertEqual(key.verify(tampered), .mismatch, "the proof covers the identity")

        let anonymous = UpstreamRequest(
            HTTPRequest(method: "GET", path: "/authentication/login"), identity: nil, clientIP: "10.0.0.1",
            requestId: "rid-2", signer: key)
        XCTAssertEqual(
            key.verify(
                HTTPRequest(
                    method: "GET", path: "/authentication/login",
                    headers: anonymous.headers.map { (name: $0.0, value: $0.1) })), .valid)
        XCTAssertTrue(anonymous.isSafe)
    }
}
