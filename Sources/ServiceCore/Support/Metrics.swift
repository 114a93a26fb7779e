import Foundation
import Synchronization

/// Prometheus-style request metrics: counts by route and status, and a latency histogram per route.
/// Each event loop records into its own shard (an uncontended lock); a scrape sums the shards.
public final class Metrics: Sendable {
    static let bucketBounds: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    struct RouteStats {
        var byStatus: [Int: UInt64] = [:]
        var buckets = [UInt64](repeating: 0, count: Metrics.bucketBounds.count + 1)
        var sumSeconds: Double = 0
        var count: UInt64 = 0

        mutating func add(status: Int, bucket: Int, seconds: Double) {
            byStatus[status, default: 0] += 1
            buckets[bucket] += 1
            sumSeconds += seconds
            count += 1
        }
    }

    final class Shard: Sendable {
        let stats = Mutex<[String: RouteStats]>([:])
    }

    let shards: [Shard]
    private let gauges = Mutex<[String: @Sendable () -> Int]>([:])

    init(shards: Int) {
        self.shards = (0..<max(1, shards)).map { _ in Shard() }
    }

    func record(shard: Int, route: String, status: Int, seconds: Double) {
        var i = 0
        while i < Metrics.bucketBounds.count && seconds > Metrics.bucketBounds[i] { i += 1 }
        shards[shard].stats.withLock { all in
            // One in-place access: copying the stats out and back would copy its dictionary and
            // array, and each separate subscript would hash the route again.
            all[route, default: RouteStats()].add(status: status, bucket: i, seconds: seconds)
        }
    }

    /// Registers a gauge read at scrape time (e.g. worker queue depth).
    public func gauge(_ name: String, _ read: @escaping @Sendable () -> Int) {
        gauges.withLock { $0[name] = read }
    }

    public func render() -> String {
        var merged: [String: RouteStats] = [:]
        for shard in shards {
            shard.stats.withLock { all in
                for (route, s) in all {
                    var m = merged[route] ?? RouteStats()
                    for (k, v) in s.byStatus { m.byStatus[k, default: 0] += v }
                    for i in 0..<m.buckets.count { m.buckets[i] += s.buckets[i] }
                    m.sumSeconds += s.sumSeconds
                    m.count += s.count
                    merged[route] = m
                }
            }
        }
        var out = "# TYPE http_requests_total counter\n"
        for route in merged.keys.sorted() {
            guard let s = merged[route] else { continue }
            for status in s.byStatus.keys.sorted() {
                out += "http_requests_total{route=\"\(escape(route))\",status=\"\(status)\"} \(s.byStatus[status] ?? 0)\n"
            }
        }
        out += "# TYPE http_request_duration_seconds histogram\n"
        for route in merged.keys.sorted() {
            guard let s = merged[route] else { continue }
            var cumulative: UInt64 = 0
            for (i, bound) in Metrics.bucketBounds.enumerated() {
                cumulative += s.buckets[i]
                out += "http_request_duration_seconds_bucket{route=\"\(escape(route))\",le=\"\(bound)\"} \(cumulative)\n"
            }
            cumulative += s.buckets[Metrics.bucketBounds.count]
            out += "http_request_duration_seconds_bucket{route=\"\(escape(route))\",le=\"+Inf\"} \(cumulative)\n"
            out += "http_request_duration_seconds_sum{route=\"\(escape(route))\"} \(s.sumSeconds)\n"
            out += "http_request_duration_seconds_count{route=\"\(escape(route))\"} \(s.count)\n"
        }
        let g = gauges.withLock { $0 }
        var typed = Set<Substring>()
        for name in g.keys.sorted() {
            // A gauge name may carry labels (`breaker_open{instance="a"}`): one TYPE line per family.
            let family = name.prefix { $0 != "{" }
            if typed.insert(family).inserted { out += "# TYPE \(family) gauge\n" }
            out += "\(name) \(g[name]?() ?? 0)\n"
        }
        return out
    }

    private func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
    }
}
