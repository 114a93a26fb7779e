import Foundation
import ServiceCore
import Synchronization

// The hand-written logger and request metrics that swift-log and swift-metrics + swift-prometheus
// replaced (ServiceCore at 73f86c0), cut down to the calls measured here, so every run compares
// old and new on the same machine at the same moment. Used by nothing else.

struct LegacyLogger: Sendable {
    enum Level: Int, Comparable {
        case debug, info, warn, error
        static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }
        var name: String { ["debug", "info", "warn", "error"][rawValue] }
    }

    let service: String
    let minimum: Level
    let fd: Int32

    func log(_ level: Level, _ msg: String, _ fields: [(String, JSON)]) {
        guard level >= minimum else { return }
        var obj: [(String, JSON)] = [
            ("ts", .int(Clock.wallMillis())), ("level", .string(level.name)),
            ("svc", .string(service)), ("msg", .string(msg)),
        ]
        obj.append(contentsOf: fields)
        var bytes = JSON.object(obj).serializedBytes()
        bytes.append(UInt8(ascii: "\n"))
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }
}

final class LegacyMetrics: Sendable {
    static let bucketBounds: [Double] = [
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
    ]

    struct RouteStats {
        var byStatus: [Int: UInt64] = [:]
        var buckets = [UInt64](repeating: 0, count: LegacyMetrics.bucketBounds.count + 1)
        var sumSeconds: Double = 0
        var count: UInt64 = 0
    }

    final class Shard: Sendable {
        let stats = Mutex<[String: RouteStats]>([:])
    }

    let shards: [Shard]

    init(shards: Int) { self.shards = (0..<max(1, shards)).map { _ in Shard() } }

    func record(shard: Int, route: String, status: Int, seconds: Double) {
        var i = 0
        while i < LegacyMetrics.bucketBounds.count && seconds > LegacyMetrics.bucketBounds[i] { i += 1 }
        shards[shard].stats.withLock { all in
            all[route, default: RouteStats()].byStatus[status, default: 0] += 1
            all[route, default: RouteStats()].buckets[i] += 1
            all[route, default: RouteStats()].sumSeconds += seconds
            all[route, default: RouteStats()].count += 1
        }
    }
}
