import ServiceCore
import StreamCore
import XCTest

/// The feed's gathering pause: short while events come slower than `busyPerSecond` (judged on
/// each read's entries over the pause before it), long while they come at that rate or faster.
final class GatherWindowTests: XCTestCase {
    func testLongWhileTheRateIsHighShortOnceItFalls() {
        var w = GatherWindow(minMillis: 20, maxMillis: 100, busyPerSecond: 150)
        XCTAssertEqual(w.pause(afterReading: 0), 20, "an empty read (timed out)")
        XCTAssertEqual(w.pause(afterReading: 2), 20, "2 in 20 ms: 100 a second")
        XCTAssertEqual(w.pause(afterReading: 3), 100, "3 in 20 ms: 150 a second")
        XCTAssertEqual(w.pause(afterReading: 15), 100, "15 in 100 ms: still 150 a second")
        XCTAssertEqual(w.pause(afterReading: 14), 20, "14 in 100 ms: below")
        XCTAssertEqual(w.pause(afterReading: 5000), 100)
        XCTAssertEqual(w.pause(afterReading: 0), 20)
    }

    func testSettingsAreClampedAndReadFromTheEnvironment() {
        XCTAssertEqual(
            GatherWindow(minMillis: -5, maxMillis: 3, busyPerSecond: 0),
            GatherWindow(minMillis: 0, maxMillis: 3, busyPerSecond: 1))
        XCTAssertEqual(
            GatherWindow(minMillis: 50, maxMillis: 10, busyPerSecond: 1).maxMillis, 50,
            "the long window is never shorter than the short one")
        XCTAssertEqual(
            GatherWindow(ServiceConfig(name: "t", environment: [:])),
            GatherWindow(minMillis: 20, maxMillis: 100, busyPerSecond: 150))
        let set = GatherWindow(
            ServiceConfig(
                name: "t",
                environment: [
                    "DT_STREAM_COALESCE_MS": "5", "DT_STREAM_COALESCE_MAX_MS": "80", "DT_STREAM_BUSY_PER_SECOND": "40",
                ]))
        XCTAssertEqual(set, GatherWindow(minMillis: 5, maxMillis: 80, busyPerSecond: 40))
    }
}
