import ServiceCore
import Synchronization

/// Settings and bookkeeping of `GET /engine/stream`, shared by every loop of a stream service:
/// how many streams the process and one user may hold, and counters for /metrics.
public final class StreamLimits: Sendable {
    /// DT_STREAM_MAX: streams per stream-service process (503 past it): each holds a socket here
    /// and one in nginx.
    public let maxStreams: Int
    /// DT_STREAM_MAX_PER_USER: streams per user and instance (429 past it): a few tabs, not a
    /// fan-out (counted per process: the instances share nothing but Redis).
    public let maxPerUser: Int
    /// DT_STREAM_HEARTBEAT_MS: a `: ping` comment after this much silence, well under the
    /// shortest idle limit on the way (nginx's proxy_read_timeout for the stream, 1 h; browsers'
    /// and corporate proxies' idle limits, typically 30-60 s).
    public let heartbeatMillis: UInt64

    private let held = Mutex<(total: Int, perUser: [Int64: Int])>((0, [:]))
    let opened = Atomic<Int>(0)
    let resets = Atomic<Int>(0)
    let eventsSent = Atomic<Int>(0)
    /// Writes to clients (each a read and a write in nginx too): what the stream's CPU follows.
    let writes = Atomic<Int>(0)

    public init(maxStreams: Int = 10_000, maxPerUser: Int = 16, heartbeatMillis: Int = 15_000) {
        self.maxStreams = max(1, maxStreams)
        self.maxPerUser = max(1, maxPerUser)
        self.heartbeatMillis = UInt64(max(100, heartbeatMillis))
    }

    public convenience init(_ config: ServiceConfig) {
        self.init(
            maxStreams: config.int("DT_STREAM_MAX", default: 10_000),
            maxPerUser: config.int("DT_STREAM_MAX_PER_USER", default: 16),
            heartbeatMillis: config.int("DT_STREAM_HEARTBEAT_MS", default: 15_000))
    }

    enum Refusal { case processFull, userFull }

    /// Takes a place for one of `user`'s streams, or says why not.
    func acquire(_ user: Int64) -> Refusal? {
        held.withLock { h in
            if h.total >= maxStreams { return .processFull }
            if h.perUser[user, default: 0] >= maxPerUser { return .userFull }
            h.total += 1
            h.perUser[user, default: 0] += 1
            return nil
        }
    }

    func release(_ user: Int64) {
        held.withLock { h in
            h.total -= 1
            let left = h.perUser[user, default: 1] - 1
            h.perUser[user] = left > 0 ? left : nil
        }
    }

    /// Streams open now (the /metrics gauge `stream_subscribers`).
    public var subscribers: Int { held.withLock { $0.total } }
    public var openedTotal: Int { opened.load(ordering: .relaxed) }
    public var resetsTotal: Int { resets.load(ordering: .relaxed) }
    public var eventsSentTotal: Int { eventsSent.load(ordering: .relaxed) }
    public var writesTotal: Int { writes.load(ordering: .relaxed) }
}
