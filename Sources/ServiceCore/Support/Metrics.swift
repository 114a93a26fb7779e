import CoreMetrics
import Prometheus
import Synchronization

/// Request metrics for /metrics through swift-metrics with a Prometheus backend:
/// `http_requests_total{route,status}`, the `http_request_duration_seconds{route}` histogram,
/// and gauges read at scrape time. Each server has its own registry (tests run several servers
/// in one process, so no `MetricsSystem.bootstrap`).
public final class Metrics: Sendable {
    static let durationBuckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .microseconds(2500), .milliseconds(5), .milliseconds(10),
        .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
    ]
    static let requestsName = "http_requests_total"
    static let durationName = "http_request_duration_seconds"

    struct Key: Hashable {
        let route: String
        let status: Int
    }

    struct Handles {
        let requests: CoreMetrics.Counter
        let duration: CoreMetrics.Timer
    }

    /// The counter and timer each event loop has used, so a request costs one lookup in its own
    /// shard (an uncontended lock) instead of one in the registry under its shared lock.
    final class Shard: Sendable {
        let handles = Mutex<[Key: Handles]>([:])
    }

    public let registry = PrometheusCollectorRegistry()
    let factory: PrometheusMetricsFactory
    let shards: [Shard]
    private let gauges = Mutex<[(String, @Sendable () -> Int)]>([])

    init(shards: Int) {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets[Self.durationName] = Self.durationBuckets
        self.factory = factory
        self.shards = (0..<max(1, shards)).map { _ in Shard() }
    }

    func record(shard: Int, route: String, status: Int, seconds: Double) {
        let key = Key(route: route, status: status)
        let handles = shards[shard].handles.withLock { all in
            if let known = all[key] { return known }
            let made = Handles(
                requests: Counter(
                    label: Self.requestsName, dimensions: [("route", route), ("status", String(status))],
                    factory: factory),
                duration: Timer(label: Self.durationName, dimensions: [("route", route)], factory: factory))
            all[key] = made
            return made
        }
        handles.requests.increment()
        // Clamped: Int64(_:) traps on NaN or out-of-range values, and metrics must never crash a server.
        let nanos = seconds.isFinite ? Int64(max(0, min(seconds * 1e9, 1e18))) : 0
        handles.duration.recordNanoseconds(nanos)
    }

    /// Registers a gauge read at scrape time (e.g. worker queue depth); a plain metric name.
    public func gauge(_ name: String, _ read: @escaping @Sendable () -> Int) {
        gauges.withLock { $0.append((name, read)) }
    }

    /// The Prometheus text exposition of everything recorded so far.
    public func render() -> String {
        for (name, read) in gauges.withLock({ $0 }) {
            Gauge(label: name, factory: factory).record(read())
        }
        return registry.emitToString()
    }
}
