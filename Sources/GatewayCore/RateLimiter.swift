import ServiceCore
import Synchronization

/// In-memory token buckets keyed by user id or client IP, one table per gateway process (nginx's
/// ip_hash pins a client to one gateway, so a client's buckets live in one place).
///
/// A bucket idle long enough to have refilled is indistinguishable from a new one, so such buckets
/// are dropped in a sweep; memory stays proportional to the recently active keys.
public final class RateLimiter: Sendable {
    struct Bucket {
        var tokens: Double
        var lastNanos: UInt64
    }

    public enum Decision: Equatable, Sendable {
        case allowed
        /// Seconds until one token is back (≥ 1, for the Retry-After header).
        case limited(retryAfterSeconds: Int)
    }

    public let ratePerSecond: Double
    public let burst: Double
    private let shards: [ShardBox]
    private let now: @Sendable () -> UInt64

    struct Shard {
        var buckets: [String: Bucket] = [:]
        var lastSweep: UInt64 = 0
    }

    final class ShardBox: Sendable {
        let state = Mutex(Shard())
    }

    /// `ratePerSecond <= 0` disables the limiter.
    public init(
        ratePerSecond: Double, burst: Double, shards: Int = 64,
        now: @escaping @Sendable () -> UInt64 = { Clock.monotonicNanos() }
    ) {
        self.ratePerSecond = ratePerSecond
        self.burst = max(1, burst)
        self.shards = (0..<max(1, shards)).map { _ in ShardBox() }
        self.now = now
    }

    var enabled: Bool { ratePerSecond > 0 }

    public func take(_ key: String) -> Decision {
        guard enabled else { return .allowed }
        let t = now()
        let index = Int(UInt(bitPattern: key.hashValue) % UInt(shards.count))
        return shards[index].state.withLock { shard in
            var b = shard.buckets[key] ?? Bucket(tokens: burst, lastNanos: t)
            let elapsed = Double(t &- b.lastNanos) / 1e9
            b.tokens = min(burst, b.tokens + elapsed * ratePerSecond)
            b.lastNanos = t
            let decision: Decision
            if b.tokens >= 1 {
                b.tokens -= 1
                decision = .allowed
            } else {
                let wait = (1 - b.tokens) / ratePerSecond
                decision = .limited(retryAfterSeconds: max(1, Int(wait.rounded(.up))))
            }
            shard.buckets[key] = b
            if shard.buckets.count > 4096 && t &- shard.lastSweep > 1_000_000_000 {
                shard.lastSweep = t
                let refillNanos = burst / ratePerSecond * 1e9
                shard.buckets = shard.buckets.filter { Double(t &- $0.value.lastNanos) < refillNanos }
            }
            return decision
        }
    }

    /// Keys currently tracked (for /gateway/status).
    public var trackedKeys: Int { shards.reduce(0) { sum, s in sum + s.state.withLock { $0.buckets.count } } }
}

/// The client address for per-IP limits: nginx's X-Real-IP, else the last X-Forwarded-For hop
/// (the one nginx appended; earlier hops are whatever the client claimed), else the socket peer.
/// The gateway listens on loopback behind nginx, so these headers come from nginx.
public enum ClientAddress {
    public static func of(_ request: HTTPRequest) -> String {
        if let ip = request.header("x-real-ip"), !ip.isEmpty { return ip }
        if let xff = request.header("x-forwarded-for"),
            let last = xff.split(separator: ",").last?.trimmingASCIIWhitespace(), !last.isEmpty
        {
            return last
        }
        return request.remoteAddress
    }
}
