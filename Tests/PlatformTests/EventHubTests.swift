import XCTest

@testable import StreamCore

/// The market-stream service's in-memory window of the Redis stream: readers see public events
/// and their own, in id order; a position below the window (or from before a restart) is a gap,
/// never a silent skip; a lagging client gets the latest price of a stock, not every step.
final class EventHubTests: XCTestCase {
    func event(_ ms: UInt64, _ seq: UInt64, user: Int64?, price: Int64? = nil) -> StreamEvent {
        StreamEvent(
            id: EventId(ms: ms, seq: seq), user: user, name: price != nil ? "price" : user == nil ? "trade" : "order",
            data: "{}", priceOf: price)
    }

    func testReadersSeePublicAndOwnEventsInOrder() {
        let hub = EventHub(capacity: 100)
        hub.restart(floor: EventId(ms: 1000, seq: 0), with: [event(1000, 0, user: nil)])
        hub.append([event(1000, 1, user: 7), event(1001, 0, user: 8), event(1002, 0, user: nil)])
        guard case .events(let seen, let through) = hub.read(after: EventId(ms: 1000, seq: 0), user: 7) else {
            return XCTFail("a gap where there is none")
        }
        XCTAssertEqual(seen.map(\.id.description), ["1000-1", "1002-0"], "user 8's event is not user 7's")
        XCTAssertEqual(through, EventId(ms: 1002, seq: 0))
        XCTAssertEqual(hub.head, EventId(ms: 1002, seq: 0), "a reader starting now starts here")
        guard case .events(let limited, let upTo) = hub.read(after: EventId(ms: 999_999, seq: 0), user: 7) else {
            return XCTFail("an id ahead (another instance read further): wait for it, no gap")
        }
        XCTAssertTrue(limited.isEmpty)
        XCTAssertEqual(upTo, EventId(ms: 999_999, seq: 0))
    }

    func testPositionsBelowTheWindowAreGaps() {
        let hub = EventHub(capacity: 16)
        hub.restart(floor: EventId(ms: 5000, seq: 0), with: [])
        if case .gap = hub.read(after: EventId(ms: 4999, seq: 3), user: 1) {} else { XCTFail("before the floor") }
        hub.append((0..<40).map { event(5001 + $0, 0, user: nil) })
        if case .gap = hub.read(after: EventId(ms: 5010, seq: 0), user: 1) {} else { XCTFail("fell off the window") }
        guard case .events(let recent, _) = hub.read(after: EventId(ms: 5030, seq: 0), user: 1) else {
            return XCTFail("still held")
        }
        XCTAssertEqual(recent.count, 10)
        // Redis lost its data: everyone behind the new floor starts over.
        hub.restart(floor: EventId(ms: 9000, seq: 0), with: [event(9000, 0, user: nil)])
        if case .gap = hub.read(after: EventId(ms: 5040, seq: 0), user: 1) {} else { XCTFail("behind a restart") }
        XCTAssertEqual(EventId("5030-0"), EventId(ms: 5030, seq: 0))
        XCTAssertNil(EventId("5030"))
        XCTAssertNil(EventId("a-b"))
        XCTAssertNil(EventId("-1-0"))
    }

    func testOneWriteKeepsTheLatestPriceOfEachStock() {
        let events = [
            event(1, 0, user: nil, price: 3), event(1, 1, user: nil), event(1, 2, user: nil, price: 4),
            event(1, 3, user: nil, price: 3),
        ]
        var out: [UInt8] = []
        XCTAssertEqual(StreamRegistry.encode(events, into: &out), 3)
        let text = String(decoding: out, as: UTF8.self)
        XCTAssertFalse(text.contains("id: 1-0\n"), "stock 3's older price is replaced: \(text)")
        XCTAssertTrue(text.hasPrefix("id: 1-1\nevent: trade\n"), text)
        XCTAssertTrue(text.hasSuffix("id: 1-3\nevent: price\ndata: {}\n\n"), "the last id is the position: \(text)")
    }

    func testOnlyIdsRedisCouldHaveAssignedAreWaitedFor() {
        XCTAssertTrue(StreamRegistry.plausible(EventId(ms: 1_000_000, seq: 0), nowMillis: 1_000_000))
        XCTAssertFalse(StreamRegistry.plausible(EventId(ms: 99_999_999_999_999, seq: 0), nowMillis: 1_000_000))
    }
}
