@_spi(Benchmarks) import ServiceCore
import XCTest

/// The request metrics on their own: counts per route and status, durations into the right
/// buckets, and no trap on a duration a clock glitch could produce.
final class MetricsTests: XCTestCase {
    func testCountsAndBucketsPerRouteAcrossShards() {
        let metrics = BenchmarkProbes.metrics(shards: 2)
        let a = BenchmarkProbes.Label("GET /a")
        BenchmarkProbes.record(metrics, shard: 0, route: a, status: 200, seconds: 0.0004)
        BenchmarkProbes.record(metrics, shard: 1, route: a, status: 200, seconds: 0.003)
        BenchmarkProbes.record(metrics, shard: 1, route: a, status: 404, seconds: 0.02)
        let text = metrics.render()
        XCTAssertTrue(text.contains(#"http_requests_total{route="GET /a",status="200"} 2"#), text)
        XCTAssertTrue(text.contains(#"http_requests_total{route="GET /a",status="404"} 1"#), text)
        XCTAssertTrue(text.contains(#"http_request_duration_seconds_bucket{route="GET /a",le="0.0005"} 1"#), text)
        XCTAssertTrue(text.contains(#"http_request_duration_seconds_bucket{route="GET /a",le="0.005"} 2"#), text)
        XCTAssertTrue(text.contains(#"http_request_duration_seconds_bucket{route="GET /a",le="0.025"} 3"#), text)
        XCTAssertTrue(text.contains(#"http_request_duration_seconds_count{route="GET /a"} 3"#), text)
    }

    func testOddDurationsAreClampedNotFatal() {
        let metrics = BenchmarkProbes.metrics(shards: 1)
        let odd = BenchmarkProbes.Label("GET /odd")
        for seconds in [Double.nan, .infinity, -1, 1e30] {
            BenchmarkProbes.record(metrics, shard: 0, route: odd, status: 200, seconds: seconds)
        }
        let text = metrics.render()
        XCTAssertTrue(text.contains(#"http_requests_total{route="GET /odd",status="200"} 4"#), text)
        XCTAssertTrue(text.contains(#"http_request_duration_seconds_count{route="GET /odd"} 4"#), text)
    }

    func testRoutesWithTheSameLabelShareOneSeries() {
        let metrics = BenchmarkProbes.metrics(shards: 1)
        // As when a path is registered again: two labels made from one name.
        BenchmarkProbes.record(
            metrics, shard: 0, route: BenchmarkProbes.Label("GET /same"), status: 200, seconds: 0.001)
        BenchmarkProbes.record(
            metrics, shard: 0, route: BenchmarkProbes.Label("GET /same"), status: 200, seconds: 0.001)
        BenchmarkProbes.record(
            metrics, shard: 0, route: BenchmarkProbes.Label("GET /other"), status: 201, seconds: 0.001)
        let text = metrics.render()
        XCTAssertTrue(text.contains(#"http_requests_total{route="GET /same",status="200"} 2"#), text)
        XCTAssertTrue(text.contains(#"http_request_duration_seconds_count{route="GET /same"} 2"#), text)
        XCTAssertTrue(text.contains(#"http_requests_total{route="GET /other",status="201"} 1"#), text)
        XCTAssertFalse(text.contains(#"http_requests_total{route="GET /other",status="200"}"#), text)
    }
}
