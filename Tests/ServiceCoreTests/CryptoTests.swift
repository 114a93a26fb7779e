import ServiceCore
import XCTest

final class CryptoTests: XCTestCase {
    func testKnownVectors() {
        // RFC 4231 test case 2.
        let mac = Crypto.hmacSHA256(key: Array("Jefe".utf8), data: Array("what do ya want for nothing?".utf8))
        XCTAssertEqual(
            mac.map { String(format: "%02x", $0) }.joined(),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        // RFC 4231 test case 6: a key longer than the block is hashed first.
        let long = Crypto.hmacSHA256(
            key: [UInt8](repeating: 0xaa, count: 131),
            data: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8))
        XCTAssertEqual(
            long.map { String(format: "%02x", $0) }.joined(),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
        // RFC 7914 §11 PBKDF2-HMAC-SHA256 vector (c = 1, dkLen = 64 → first 32 bytes).
        let dk = Crypto.pbkdf2(password: Array("passwd".utf8), salt: Array("salt".utf8), iterations: 1, length: 32)
        XCTAssertEqual(
            dk.map { String(format: "%02x", $0) }.joined(),
            "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc")
        // RFC 7914 §11, second vector (c = 80000, dkLen = 64: two PBKDF2 blocks), and a long password.
        let dk2 = Crypto.pbkdf2(
            password: Array("Password".utf8), salt: Array("NaCl".utf8), iterations: 80000, length: 64)
        XCTAssertEqual(
            dk2.map { String(format: "%02x", $0) }.joined(),
            "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56"
                + "a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d")
        let longPassword = [UInt8](repeating: 0x61, count: 100)
        XCTAssertEqual(Crypto.pbkdf2(password: longPassword, salt: [1, 2], iterations: 3).count, 32)
        XCTAssertEqual(Base64.encode(Array("any carnal pleas".utf8)), "YW55IGNhcm5hbCBwbGVhcw==")
        XCTAssertEqual(Base64.decode("YW55IGNhcm5hbCBwbGVhcw"), Array("any carnal pleas".utf8))
        XCTAssertNil(Base64.decode("ab$c"))
        XCTAssertTrue(Crypto.constantTimeEqual([1, 2, 3], [1, 2, 3]))
        XCTAssertFalse(Crypto.constantTimeEqual([1, 2, 3], [1, 2, 4]))
        XCTAssertFalse(Crypto.constantTimeEqual([1, 2], [1, 2, 3]))
        XCTAssertNotEqual(Crypto.randomBytes(16), Crypto.randomBytes(16))
    }

    func testJWTSignVerifyAndRejections() throws {
        let jwt = JWT(secret: "s3cret")
        let claims = JWTClaims(subject: "42", name: "alice", role: "user", issuedAt: 1000, expiresAt: 2000)
        let token = jwt.sign(claims)
        XCTAssertEqual(try jwt.verify(token, nowSeconds: 1500), claims)
        XCTAssertThrowsError(try jwt.verify(token, nowSeconds: 2000)) { XCTAssertEqual($0 as? JWTError, .expired) }
        XCTAssertThrowsError(try JWT(secret: "other").verify(token, nowSeconds: 1500)) {
            XCTAssertEqual($0 as? JWTError, .badSignature)
        }
        // Tampered payload.
        var parts = token.split(separator: ".").map(String.init)
        parts[1] = Base64.encodeURL(Array(#"{"sub":"1","name":"admin","role":"admin","exp":9999999999}"#.utf8))
        XCTAssertThrowsError(try jwt.verify(parts.joined(separator: "."), nowSeconds: 1500)) {
            XCTAssertEqual($0 as? JWTError, .badSignature)
        }
        // alg: none with an empty signature.
        let none = Base64.encodeURL(Array(#"{"alg":"none","typ":"JWT"}"#.utf8)) + "." + parts[1] + "."
        XCTAssertThrowsError(try jwt.verify(none, nowSeconds: 1500)) { XCTAssertEqual($0 as? JWTError, .badAlgorithm) }
        // The test plans' "invalid token": a bare RS256 header.
        XCTAssertThrowsError(try jwt.verify("eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9", nowSeconds: 1500))
        XCTAssertThrowsError(try jwt.verify("", nowSeconds: 1500))
    }
}
