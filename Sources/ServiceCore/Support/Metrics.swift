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

    /// One route's handles on one event loop: its duration timer and a counter per status seen
    /// (a handful, so scanned rather than hashed).
    final class Slot {
        let duration: CoreMetrics.Timer
        var counters: [(status: Int, counter: CoreMetrics.Counter)] = []

        init(duration: CoreMetrics.Timer) { self.duration = duration }
    }

    /// The slots each event loop has used, indexed by `MetricsLabel.id`: a request costs an array
    /// index in its own shard (under an uncontended lock), not a hash of its route and status.
    final class Shard: Sendable {
        let slots = Mutex<[Slot?]>([])
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

    func record(shard: Int, route: MetricsLabel, status: Int, seconds: Double) {
        // Clamped: Int64(_:) traps on NaN or out-of-range values, and metrics must never crash a server.
        let nanos = seconds.isFinite ? Int64(max(0, min(seconds * 1e9, 1e18))) : 0
        let (counter, duration) = shards[shard].slots.withLock { slots in
            if route.id >= slots.count {
                slots.append(contentsOf: repeatElement(nil, count: route.id + 1 - slots.count))
            }
            let slot: Slot
            if let known = slots[route.id] {
                slot = known
            } else {
                slot = Slot(
                    duration: Timer(label: Self.durationName, dimensions: [("route", route.name)], factory: factory))
                slots[route.id] = slot
            }
            for c in slot.counters where c.status == status { return (c.counter, slot.duration) }
            // Same name and labels give the same registry counter, whichever slot asks.
            let made = Counter(
                label: Self.requestsName, dimensions: [("route", route.name), ("status", String(status))],
                factory: factory)
            slot.counters.append((status, made))
            return (made, slot.duration)
        }
        counter.increment()
        duration.recordNanoseconds(nanos)
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

/// A route's name in the metrics (`GET /path`, `unmatched`, …) with a small process-wide id that
/// indexes each loop's metrics slots. Made once per route, when the route is registered.
final class MetricsLabel: Sendable {
    let name: String
    let id: Int

    private static let ids = Mutex<[String: Int]>([:])

    /// The same name always gets the same id, so the slots stay as few as the distinct labels.
    init(_ name: String) {
        self.name = name
        id = Self.ids.withLock { ids in
            if let known = ids[name] { return known }
            let next = ids.count
            ids[name] = next
            return next
        }
    }

    static let refused = MetricsLabel("refused")
    static let unmatched = MetricsLabel("unmatched")
    static let invalid = MetricsLabel("invalid")
    static let timeout = MetricsLabel("timeout")
}
