import ServiceCore
import Synchronization

/// One committed fact for the stream: public (`user` nil) or one user's own.
public struct StreamEvent: Sendable {
    public let id: EventId
    public let user: Int64?
    public let name: String
    /// A price event's stock: a later price of the same stock in the same write replaces it.
    let priceOf: Int64?
    /// The event as text/event-stream bytes, encoded once here rather than once per reader.
    let wire: [UInt8]

    public init(id: EventId, user: Int64?, name: String, data: String, priceOf: Int64? = nil) {
        self.id = id
        self.user = user
        self.name = name
        self.priceOf = priceOf
        var wire: [UInt8] = []
        StreamWire.append(id: id, name: name, data: data, to: &wire)
        self.wire = wire
    }
}

/// The recent events of the `events` stream in memory, in id order, for this process's readers
/// (no Redis round trip per reader): filled by `RedisEventFeed`, read by every loop's
/// `StreamRegistry`. Bounded: the oldest fall off. A reader whose position is below the floor
/// (it fell off, or came before what this process could read from Redis) gets a `reset`.
public final class EventHub: Sendable {
    public let capacity: Int
    private struct State {
        var events: [StreamEvent] = []
        var head = 0
        /// A position below this is a gap: what followed it is not held.
        var floor = EventId.zero
    }
    private let state = Mutex<State>(State())
    /// Called (on the feed's thread) after each change: the stream readers' loop wakers.
    private let listeners = Mutex<[@Sendable () -> Void]>([])

    public init(capacity: Int = EventLog.streamCap) { self.capacity = max(16, capacity) }

    /// Appends events newer than everything held (the feed reads them in stream order).
    public func append(_ new: [StreamEvent]) {
        guard !new.isEmpty else { return }
        state.withLock { s in
            s.events.append(contentsOf: new)
            let live = s.events.count - s.head
            if live > capacity {
                s.head += live - capacity
                s.floor = s.events[s.head - 1].id // a reader there misses nothing held
            }
            if s.head > capacity { // compact now and then
                s.events.removeFirst(s.head)
                s.head = 0
            }
        }
        wakeAll()
    }

    /// Starts over from what Redis holds now (at start, after Redis lost data, after a writer's
    /// gap): positions below `floor` read as gaps, so their readers get a reset.
    public func restart(floor: EventId, with events: [StreamEvent]) {
        state.withLock { s in
            s.events = Array(events.suffix(capacity))
            s.head = 0
            s.floor = events.count > capacity ? s.events[0].id : floor
        }
        wakeAll()
    }

    private func wakeAll() { for wake in listeners.withLock({ $0 }) { wake() } }

    /// Runs `wake` after every change, on the feed's thread: it must only signal, not read.
    public func onAppend(_ wake: @escaping @Sendable () -> Void) { listeners.withLock { $0.append(wake) } }

    /// Where a reader starting now begins: the newest id, or (nothing held) the floor.
    public var head: EventId {
        state.withLock { $0.events.count > $0.head ? $0.events[$0.events.count - 1].id : $0.floor }
    }

    public var floor: EventId { state.withLock { $0.floor } }
    public var count: Int { state.withLock { $0.events.count - $0.head } }

    public enum Read {
        /// Events after the position that `user` may see (maybe none), up to a limit, and the new position.
        case events([StreamEvent], through: EventId)
        /// The position is below the floor: the reader missed some.
        case gap
    }

    /// What `user` may see after `after` (nil: every event, for a shared encoding), at most
    /// `limit` events (of any user) looked at.
    public func read(after: EventId, user: Int64?, limit: Int = 500) -> Read {
        state.withLock { s in
            if after < s.floor { return .gap }
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
            let end = min(s.events.count, lo + limit)
            while i < end {
                let e = s.events[i]
                through = e.id
                if user == nil || e.user == nil || e.user == user { out.append(e) }
                i += 1
            }
            return .events(out, through: through)
        }
    }
}
