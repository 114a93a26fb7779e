import ServiceCore
import Synchronization

/// Position in the event streams: `<ms>-<seq>`, the same id space for the market stream and every
/// user stream (the engine assigns them in commit order), so one SSE `id:` says where a client is.
public struct EventId: Sendable, Comparable, Hashable, CustomStringConvertible {
    public let ms: Int64
    public let seq: Int64

    public init(ms: Int64, seq: Int64) {
        self.ms = ms
        self.seq = seq
    }

    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let ms = Int64(parts[0]), let seq = Int64(parts[1]), ms >= 0, seq >= 0 else {
            return nil
        }
        self.init(ms: ms, seq: seq)
    }

    public var description: String { "\(ms)-\(seq)" }
    public static func < (a: EventId, b: EventId) -> Bool { (a.ms, a.seq) < (b.ms, b.seq) }
}

/// One committed fact for the stream: public (`user` nil) or one user's own.
public struct StreamEvent: Sendable {
    public let id: EventId
    public let user: Int64?
    public let name: String
    public let data: String
    /// The event as text/event-stream bytes, encoded once here rather than once per reader.
    let wire: [UInt8]

    init(id: EventId, user: Int64?, name: String, data: String) {
        self.id = id
        self.user = user
        self.name = name
        self.data = data
        var wire: [UInt8] = []
        StreamWire.append(id: id, name: name, data: data, to: &wire)
        self.wire = wire
    }
}

/// The recent events in memory, in id order, for the stream endpoint's readers (no Redis round
/// trip per reader). Bounded: the oldest fall off; a reader whose position fell off (or from
/// before this process started) gets a `reset` and carries on from the present.
public final class EventHub: Sendable {
    public let capacity: Int
    /// Ids below this were assigned before this process started: the hub never held them.
    let floor: EventId
    private let state = Mutex<(events: [StreamEvent], head: Int, droppedThrough: EventId?)>(([], 0, nil))
    /// Called (on the appending thread) after each append: the stream readers' loop wakers.
    private let listeners = Mutex<[@Sendable () -> Void]>([])

    public init(capacity: Int = 50_000, startedAtMillis: Int64 = Clock.wallMillis()) {
        self.capacity = max(16, capacity)
        floor = EventId(ms: startedAtMillis, seq: 0)
    }

    func append(_ new: [StreamEvent]) {
        guard !new.isEmpty else { return }
        state.withLock { s in
            s.events.append(contentsOf: new)
            let live = s.events.count - s.head
            if live > capacity {
                s.head += live - capacity
                s.droppedThrough = s.events[s.head - 1].id
            }
            if s.head > capacity {
                s.events.removeFirst(s.head)
                s.head = 0
            } // compact now and then
        }
        for wake in listeners.withLock({ $0 }) { wake() }
    }

    /// Runs `wake` after every append, on the appending thread: it must only signal, not read.
    public func onAppend(_ wake: @escaping @Sendable () -> Void) { listeners.withLock { $0.append(wake) } }

    /// Where a reader starting now begins: the newest id, or (nothing yet) the floor, below every
    /// id this process will assign.
    public var head: EventId { latest ?? floor }

    /// The newest id (nil: nothing yet).
    public var latest: EventId? { state.withLock { $0.events.count > $0.head ? $0.events.last?.id : nil } }

    public enum Read {
        /// Events after the position that `user` may see (maybe none), up to a limit, and the new position.
        case events([StreamEvent], through: EventId?)
        /// The position is older than the oldest event held: the reader missed some.
        case gap
    }

    /// What `user` may see after `after` (nil = from now on: nothing), at most `limit` events.
    public func read(after: EventId?, user: Int64, limit: Int = 500) -> Read {
        state.withLock { s in
            guard let after else { return .events([], through: s.events.count > s.head ? s.events.last?.id : nil) }
            if after < floor { return .gap }
            guard s.events.count > s.head else { return .events([], through: after) }
            if let dropped = s.droppedThrough, after < dropped { return .gap } // what followed it fell off
            // First index with id > after (binary search: ids ascend).
            var lo = s.head
            var hi = s.events.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if s.events[mid].id <= after { lo = mid + 1 } else { hi = mid }
            }
            var out: [StreamEvent] = []
            var through = after
            var i = lo
            while i < s.events.count && out.count < limit {
                let e = s.events[i]
                through = e.id
                if e.user == nil || e.user == user { out.append(e) }
                i += 1
            }
            return .events(out, through: through)
        }
    }
}
