import ServiceCore
import XCTest

@testable import AuthCore

/// The stored format, salting, cost changes and malformed input (no database needed).
final class PasswordHasherTests: XCTestCase {
    let hasher = PasswordHasher(iterations: 50)

    func testHashVerifiesOnlyTheSamePasswordAndIsSalted() {
        let a = hasher.hash("correct horse")
        let b = hasher.hash("correct horse")
        XCTAssertNotEqual(a, b, "a fresh salt per hash")
        guard case .match(let rehash) = hasher.verify("correct horse", stored: a) else { return XCTFail("no match") }
        XCTAssertFalse(rehash)
        guard case .mismatch = hasher.verify("correct horsE", stored: a) else { return XCTFail("matched a wrong one") }
    }

    func testAnotherCostStillVerifiesAndAsksForARehash() {
        let old = PasswordHasher(iterations: 10).hash("pw")
        guard case .match(let rehash) = hasher.verify("pw", stored: old) else { return XCTFail("no match") }
        XCTAssertTrue(rehash)
    }

    func testMalformedStoredHashesNeverMatch() {
        let good = hasher.hash("pw")
        let parts = good.split(separator: "$").map(String.init)
        for bad in [
            "", "!disabled", "pbkdf2-sha256$50$\(parts[2])", "md5$50$\(parts[2])$\(parts[3])",
            "pbkdf2-sha256$0$\(parts[2])$\(parts[3])", "pbkdf2-sha256$99999999$\(parts[2])$\(parts[3])",
            "pbkdf2-sha256$50$$\(parts[3])", "pbkdf2-sha256$50$\(parts[2])$QUJD",
        ] {
            guard case .mismatch = hasher.verify("pw", stored: bad) else { return XCTFail("matched \(bad)") }
        }
    }

    func testBlockSecondsDoubleAndCap() {
        XCTAssertEqual(LoginThrottle.blockSeconds(afterFailures: LoginThrottle.freeFailures), 1)
        XCTAssertEqual(LoginThrottle.blockSeconds(afterFailures: LoginThrottle.freeFailures + 3), 8)
        XCTAssertEqual(LoginThrottle.blockSeconds(afterFailures: 1_000), LoginThrottle.maxBlockSeconds)
    }

    func testHashSlotsBoundConcurrentHashing() {
        let slots = ConcurrencyLimit(1)
        let bounded = PasswordHasher(iterations: 2_000, slots: slots)
        DispatchQueue.concurrentPerform(iterations: 4) { _ in _ = bounded.hash("pw") }
        XCTAssertEqual(slots.peakConcurrency, 1)
    }
}
