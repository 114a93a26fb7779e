import CoreMetrics
import Prometheus
import Synchronization

/// Request metrics for /metrics through swift-metrics with a Prometheus backend:
/// `http_requests_total{route,status}`, the `http_request_duration_seconds{route}` histogram,
/// and gauges read at scrape time. Each server has its own registry (tests run several servers
/// in one process, so no `MetricsSystem.bootstrap`).
public final class Metrics: Sendable {
    /// In seconds. A histogram of `Double`s rather than of `Duration`s: the library compares a
    /// value with every bucket bound per request, and an `Int128` `Duration` compare is a call
    /// where a `Double` one is an instruction. The exposition is the same (`le="0.0005"`,
    /// `le="10.0"`, the sum in seconds).
    static let durationBuckets: [Double] = [
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
    ]
    static let requestsName = "http_requests_total"
    static let durationName = "http_request_duration_seconds"
    /// `durationName`, for the registry's histogram (made there directly: CoreMetrics' `Recorder`
    /// would add an unspecialised generic call per request). No help text, as before.
    static var durationDescriptor: MetricNameDescriptor {
        MetricNameDescriptor(metricName: "http_request_duration", unitName: "seconds", helpText: "")
    }

    /// One route's handles on one event loop: its duration timer and a counter per status seen
    /// (a handful, so scanned rather than hashed).
    final class Slot {
        let duration: ValueHistogram
        var counters: [(status: Int, counter: CoreMetrics.Counter)] = []

        init(duration: ValueHistogram) { self.duration = duration }
    }

    /// One event loop's slots, indexed by `MetricsLabel.id`: a request costs an array index and
    /// a scan of a few statuses, not a hash of its route and status. Only that loop's thread
    /// records into its shard (loop `i` passes `shard: i`; the handles themselves are
    /// thread-safe), so there is no lock; hence unchecked.
    final class Shard: @unchecked Sendable {
        private var slots: [Slot?] = []

        func record(_ route: MetricsLabel, status: Int, seconds: Double, in metrics: Metrics) {
            let id = route.id
            if id >= slots.count { slots.append(contentsOf: repeatElement(nil, count: id + 1 - slots.count)) }
            let slot: Slot
            if let known = slots[id] {
                slot = known
            } else {
                slot = Slot(
                    duration: metrics.registry.makeValueHistogram(
                        descriptor: Metrics.durationDescriptor, labels: [("route", route.name)],
                        buckets: Metrics.durationBuckets))
                slots[id] = slot
            }
            slot.duration.record(seconds)
            for c in slot.counters where c.status == status {
                c.counter.increment()
                return
            }
            // Same name and labels give the same registry counter, whichever slot asks.
            let made = Counter(
                label: Metrics.requestsName, dimensions: [("route", route.name), ("status", String(status))],
                factory: metrics.factory)
            slot.counters.append((status, made))
            made.increment()
        }
    }

    public let registry = PrometheusCollectorRegistry()
    let factory: PrometheusMetricsFactory
    let shards: [Shard]
    private let gauges = Mutex<[(String, @Sendable () -> Int)]>([])

    init(shards: Int) {
        factory = PrometheusMetricsFactory(registry: registry)
        self.shards = (0..<max(1, shards)).map { _ in Shard() }
    }

    /// Counts a request and records its duration; called on event loop `shard`'s thread only.
    func record(shard: Int, route: MetricsLabel, status: Int, seconds: Double) {
        // Clamped as a duration would be (no NaN, infinity or negative time in the histogram's sum).
        let clamped = seconds.isFinite ? max(0, min(seconds, 1e9)) : 0
        shards[shard].record(route, status: status, seconds: clamped, in: self)
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
