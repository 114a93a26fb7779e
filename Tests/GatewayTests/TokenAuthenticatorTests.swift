import ServiceCore
import XCTest

@testable import GatewayCore

final class TokenAuthenticatorTests: XCTestCase {
    struct FixedClock: WallClock {
        let millis: Int64
        func nowMillis() -> Int64 { millis }
    }

    let secret = "unit-test-secret"
    let now: Int64 = 1_800_000_000

    private func auth() -> TokenAuthenticator {
        TokenAuthenticator(jwt: JWT(secret: secret), clock: FixedClock(millis: now * 1000))
    }

    private func token(
        sub: String = "42", name: String = "alice", role: String = "user", exp: Int64? = nil, secret: String? = nil
    ) -> String {
        JWT(secret: secret ?? self.secret).sign(
            JWTClaims(subject: sub, name: name, role: role, issuedAt: now, expiresAt: exp ?? now + 60))
    }

    private func request(_ headers: [(name: String, value: String)]) -> HTTPRequest {
        HTTPRequest(method: "GET", path: "/transaction/getWalletBalance", headers: headers)
    }

    func testValidTokenGivesTheIdentityFromEitherHeader() {
        let expected = Identity(userId: "42", userName: "alice", role: "user")
        XCTAssertEqual(try auth().authenticate(request([("token", token())])).get(), expected)
        XCTAssertEqual(try auth().authenticate(request([("authorization", "Bearer " + token())])).get(), expected)
        XCTAssertEqual(try auth().authenticate(request([("token", token(role: "admin"))])).get().role, "admin")
        XCTAssertEqual(
            try auth().authenticate(request([("token", token(role: "root"))])).get().role, "user",
            "unknown roles are plain users")
    }

    func testMissingExpiredForgedAndUnfitTokensAreRefused() {
        func failure(_ headers: [(name: String, value: String)]) -> TokenAuthenticator.Failure? {
            if case .failure(let f) = auth().authenticate(request(headers)) { return f }
            return nil
        }
        XCTAssertEqual(failure([]), .missing)
        XCTAssertEqual(failure([("authorization", "Bearer ")]), .missing)
        XCTAssertEqual(failure([("token", token(exp: now - 1))]), .expired)
        XCTAssertEqual(failure([("token", token(secret: "other"))]), .invalid)
        XCTAssertEqual(failure([("token", token(sub: "4x2"))]), .invalid, "the subject must be a numeric id")
        XCTAssertEqual(failure([("token", token(name: "alice "))]), .invalid, "a look-alike name gets no identity")
        XCTAssertEqual(failure([("token", "a.b.c")]), .invalid)
    }

    func testACachedTokenStillExpiresAndForgeriesAreNeverCached() throws {
        let cache = VerifiedTokens(capacity: 2)
        let t = token(exp: now + 60)
        XCTAssertEqual(try auth().authenticate(request([("token", t)]), cache: cache).get().userId, "42")
        XCTAssertEqual(cache.count, 1)
        let later = TokenAuthenticator(jwt: JWT(secret: secret), clock: FixedClock(millis: (now + 60) * 1000))
        guard case .failure(.expired) = later.authenticate(request([("token", t)]), cache: cache) else {
            return XCTFail("a cached token is refused once it expires")
        }
        let forged = token(secret: "other")
        guard case .failure(.invalid) = auth().authenticate(request([("token", forged)]), cache: cache) else {
            return XCTFail("forged")
        }
        XCTAssertNil(cache.lookup(forged), "only verified tokens are kept")
        let other = token(sub: "43")
        let third = token(sub: "44")
        _ = auth().authenticate(request([("token", other)]), cache: cache)
        _ = auth().authenticate(request([("token", third)]), cache: cache)
        XCTAssertLessThanOrEqual(cache.count, 2, "bounded")
        XCTAssertEqual(try auth().authenticate(request([("token", third)]), cache: cache).get().userId, "44")
    }
}
