import XCTest

@testable import GatewayCore

final class BulkheadTests: XCTestCase {
    func testRequestLimit() {
        let b = Bulkhead(BulkheadLimits(requests: 2, bytes: 1 << 20))
        XCTAssertTrue(b.tryEnter(bytes: 10))
        XCTAssertTrue(b.tryEnter(bytes: 10))
        XCTAssertFalse(b.tryEnter(bytes: 10))
        XCTAssertEqual(b.snapshot.refused, 1)
        b.leave(bytes: 10)
        XCTAssertTrue(b.tryEnter(bytes: 10), "a finished request frees its place")
        XCTAssertEqual(b.snapshot.requests, 2)
    }

    func testByteLimitButOneRequestAlwaysFitsAnEmptyCompartment() {
        let b = Bulkhead(BulkheadLimits(requests: 100, bytes: 1000))
        XCTAssertTrue(b.tryEnter(bytes: 5000), "alone, even a request over the byte limit goes")
        XCTAssertFalse(b.tryEnter(bytes: 1))
        b.leave(bytes: 5000)
        XCTAssertTrue(b.tryEnter(bytes: 600))
        XCTAssertFalse(b.tryEnter(bytes: 600), "600 + 600 bytes pass the limit")
        XCTAssertTrue(b.tryEnter(bytes: 400))
        XCTAssertEqual(b.snapshot.bytes, 1000)
    }
}
