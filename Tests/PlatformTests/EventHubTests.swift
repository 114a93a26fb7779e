import XCTest

@testable import PlatformCore

/// The in-memory event window: readers see public events and their own, in id order, and a
/// position older than the window (or than the process) is a gap, never a silent skip.
final class EventHubTests: XCTestCase {
    func event(_ ms: Int64, _ seq: Int64, user: Int64?) -> StreamEvent {
        StreamEvent(id: EventId(ms: ms, seq: seq), user: user, name: user == nil ? "trade" : "order", data: "{}")
    }

    func testReadersSeePublicAndOwnEventsInOrder() {
        let hub = EventHub(capacity: 100, startedAtMillis: 1000)
        hub.append([
            event(1000, 0, user: nil), event(1000, 1, user: 7), event(1001, 0, user: 8), event(1002, 0, user: nil),
        ])
        guard case .events(let seen, let through) = hub.read(after: EventId(ms: 1000, seq: 0), user: 7) else {
            return XCTFail("a gap where there is none")
        }
        XCTAssertEqual(seen.map(\.id.description), ["1000-1", "1002-0"], "user 8's event is not user 7's")
        XCTAssertEqual(through, EventId(ms: 1002, seq: 0))
        guard case .events(let none, let now) = hub.read(after: nil, user: 7) else {
            return XCTFail("from now: no gap")
        }
        XCTAssertTrue(none.isEmpty)
        XCTAssertEqual(now, EventId(ms: 1002, seq: 0))
        guard case .events(let limited, let upTo) = hub.read(after: EventId(ms: 999_999, seq: 0), user: 7, limit: 1)
        else {
            return XCTFail("future position")
        }
        XCTAssertTrue(limited.isEmpty)
        XCTAssertEqual(upTo, EventId(ms: 999_999, seq: 0))
    }

    func testPositionsOutsideTheWindowAreGaps() {
        let hub = EventHub(capacity: 16, startedAtMillis: 5000)
        if case .gap = hub.read(after: EventId(ms: 4999, seq: 3), user: 1) {
        } else {
            XCTFail("an id from before this process")
        }
        hub.append((0..<40).map { event(5000 + $0, 0, user: nil) })
        if case .gap = hub.read(after: EventId(ms: 5010, seq: 0), user: 1) {} else { XCTFail("fell off the window") }
        guard case .events(let recent, _) = hub.read(after: EventId(ms: 5030, seq: 0), user: 1) else {
            return XCTFail("still held")
        }
        XCTAssertEqual(recent.count, 9)
        XCTAssertEqual(EventId("5030-0"), EventId(ms: 5030, seq: 0))
        XCTAssertNil(EventId("5030"))
        XCTAssertNil(EventId("a-b"))
    }

    func testIdsNeverGoBackwards() {
        var ids = EventIds()
        let a = ids.next(nowMillis: 100)
        let b = ids.next(nowMillis: 100)
        let c = ids.next(nowMillis: 90)
        let d = ids.next(nowMillis: 101)
        XCTAssertEqual([a, b, c, d].map(\.description), ["100-0", "100-1", "100-2", "101-0"])
    }
}
