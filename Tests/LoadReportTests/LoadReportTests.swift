import LoadReport
import XCTest

final class LoadReportTests: XCTestCase {
    let second: UInt64 = 1_000_000_000

    /// Two recorders (two load threads) merged: counts, errors, percentiles and per-second buckets add up.
    func testMergedRecordersKeepCountsPercentilesAndSeconds() {
        let origin: UInt64 = 5 * second
        var a = Recorder(originNanos: origin, labels: ["login", "buy"])
        var b = Recorder(originNanos: origin, labels: ["login", "buy"])
        for i in 0..<100 { // 1 ms … 100 ms, all in second 0
            let start = origin + UInt64(i) * 1_000_000
            a.record("login", startNanos: start, endNanos: start + UInt64(i + 1) * 1_000_000, error: nil)
        }
        b.record("buy", startNanos: origin + 2 * second, endNanos: origin + 2 * second + 5_000_000, error: "HTTP 500")
        b.record("sell", startNanos: origin + 3 * second, endNanos: origin + 3 * second + 7_000_000, error: nil)
        a.merge(b)
        XCTAssertEqual(a.labels, ["login", "buy", "sell"])
        XCTAssertEqual(a.total.count, 102)
        XCTAssertEqual(a.total.errors, 1)
        XCTAssertEqual(a.byLabel["buy"]?.errorExamples, ["HTTP 500"])
        let login = try! XCTUnwrap(a.byLabel["login"])
        XCTAssertEqual(login.millis(atPercentile: 50), 50, accuracy: 0.1)
        XCTAssertEqual(login.millis(atPercentile: 99), 99, accuracy: 0.1)
        XCTAssertEqual(login.maxMillis, 100, accuracy: 0.1)
        XCTAssertEqual(a.seconds.map(\.count), [100, 0, 1, 1])
        XCTAssertEqual(a.seconds.map(\.errors), [0, 0, 1, 0])
    }

    func testTableHasATotalRowAndTheReportIsSelfContained() {
        var r = Recorder(originNanos: 0)
        r.record("step <1>", startNanos: 0, endNanos: 2_000_000, error: nil)
        r.record("step <1>", startNanos: second, endNanos: second + 4_000_000, error: "bad & worse")
        let rows = SummaryTable.rows(r)
        XCTAssertEqual(rows.first, SummaryTable.header)
        XCTAssertEqual(rows.last?.prefix(3), ["TOTAL", "2", "1"])
        XCTAssertEqual(rows.last?[3], "50.00%")
        let html = HTMLReport.render(title: "run & check", facts: [("users", "2")], recorder: r)
        XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>"))
        XCTAssertEqual(html.components(separatedBy: "<svg ").count - 1, 3, "throughput, latency and error charts")
        XCTAssertTrue(
            html.contains("step &lt;1&gt;") && html.contains("bad &amp; worse") && html.contains("run &amp; check"),
            "text is escaped")
        XCTAssertFalse(html.contains("<script") || html.contains("src=\"http"), "nothing loaded from elsewhere")
    }
}

final class ReportCommandLineTests: XCTestCase {
    func testTheCommandShowsTheToolByNameNotTheBuildFolder() {
        XCTAssertEqual(HTMLReport.commandLine(["/some/build/release/dts-load", "--users", "5"]), "dts-load --users 5")
        XCTAssertEqual(HTMLReport.commandLine(["dts-replay"]), "dts-replay")
        XCTAssertEqual(HTMLReport.commandLine([]), "")
    }
}
