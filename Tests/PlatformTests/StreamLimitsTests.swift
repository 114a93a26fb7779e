import ServiceCore
import XCTest

@testable import StreamCore

/// The stream caps and the wire format, without a stack.
final class StreamLimitsTests: XCTestCase {
    func testProcessAndUserCapsAndRelease() {
        let limits = StreamLimits(maxStreams: 3, maxPerUser: 2)
        XCTAssertNil(limits.acquire(1))
        XCTAssertNil(limits.acquire(1))
        XCTAssertEqual(limits.acquire(1), .userFull, "a third stream of user 1")
        XCTAssertNil(limits.acquire(2))
        XCTAssertEqual(limits.acquire(3), .processFull, "the process holds 3")
        XCTAssertEqual(limits.subscribers, 3)
        limits.release(1)
        XCTAssertNil(limits.acquire(3), "a released place is taken again")
        XCTAssertEqual(limits.acquire(1), .processFull)
        limits.release(2)
        XCTAssertNil(limits.acquire(1), "user 1 is back under its cap")
        XCTAssertEqual(limits.subscribers, 3)
    }

    func testEventsAreOneDataLineAndResetCarriesPrices() throws {
        let e = StreamEvent(id: EventId(ms: 5, seq: 2), user: nil, name: "trade", data: "{\"a\":1,\n\"b\":2}")
        XCTAssertEqual(
            String(decoding: e.wire, as: UTF8.self), "id: 5-2\nevent: trade\ndata: {\"a\":1,\"b\":2}\n\n",
            "a line break would end the data line early")
        let reset = String(
            decoding: StreamWire.reset(
                at: EventId(ms: 9, seq: 0), reason: "gone",
                prices: [PriceSnapshot.Entry(stockId: 3, name: "X", priceCents: 2550)]), as: UTF8.self)
        XCTAssertTrue(reset.hasPrefix("id: 9-0\nevent: reset\ndata: "), reset)
        let data = try JSON.parse(Array(reset.dropFirst("id: 9-0\nevent: reset\ndata: ".count).dropLast(2).utf8))
        XCTAssertEqual(data["last_event_id"]?.stringValue, "9-0")
        XCTAssertEqual(data["prices"]?[0]?["stock_id"]?.stringValue, "3")
        XCTAssertEqual(data["prices"]?[0]?["current_price"], .number("25.50"))
    }
}
