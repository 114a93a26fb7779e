import ServiceCore
import Synchronization

/// One open `GET /engine/stream`: whose it is and where in the stream's ids it has got to.
final class StreamSubscriber {
    let responder: Responder
    let user: Int64
    var position: EventId
    var lastWrite: UInt64
    /// Paused: the client has `Responder.highWater` bytes unread; resumes from `whenDrained`.
    var waiting = false
    var closed = false

    init(responder: Responder, user: Int64, position: EventId, now: UInt64) {
        self.responder = responder
        self.user = user
        self.position = position
        lastWrite = now
    }
}

/// The streams of one event loop (one registry per loop, through the loop's WorkerContext;
/// touched by that loop's thread only). The feed wakes it after each read from Redis through a
/// LoopSignal (the hub's `onAppend`), so events reach the sockets within one loop turn, each
/// client's pending events in one write (the feed reads in short windows, so a burst of commits
/// costs one write per client, not one per event); the ~250 ms tick sends heartbeats and pumps
/// anything a wake missed.
final class StreamRegistry {
    static let readLimit = 4096

    let io: LoopIO
    let hub: EventHub
    let prices: PriceSnapshot
    let limits: StreamLimits
    private var subscribers: [ObjectIdentifier: StreamSubscriber] = [:]
    /// Read by the engine thread (only to skip waking a loop with no streams).
    private let wake: Wake

    private final class Wake: Sendable {
        let count = Atomic<Int>(0)
        let signal: LoopSignal?
        init(_ signal: LoopSignal?) { self.signal = signal }
    }

    init(io: LoopIO, hub: EventHub, prices: PriceSnapshot, limits: StreamLimits) {
        self.io = io
        self.hub = hub
        self.prices = prices
        self.limits = limits
        var pumpAll: () -> Void = {}
        wake = Wake(LoopSignal(io) { pumpAll() })
        pumpAll = { [unowned self] in self.pumpAll() }
        let wake = self.wake
        hub.onAppend { if wake.count.load(ordering: .relaxed) > 0 { wake.signal?.signal() } }
        io.onTick { [unowned self] now in self.tick(now) }
    }

    static func of(_ responder: Responder, hub: EventHub, prices: PriceSnapshot, limits: StreamLimits) -> StreamRegistry
    {
        responder.context.local(StreamRegistry.self) {
            StreamRegistry(io: responder.io, hub: hub, prices: prices, limits: limits)
        }
    }

    /// Starts serving a stream whose head has been sent: a reset first if its position is gone,
    /// then whatever it missed, then live events.
    func add(_ responder: Responder, user: Int64, resumeFrom: EventId?, resumeRequested: Bool) {
        let now = Clock.monotonicNanos() / 1_000_000
        let head = hub.head
        let sub = StreamSubscriber(responder: responder, user: user, position: head, now: now)
        subscribers[ObjectIdentifier(sub)] = sub
        wake.count.add(1, ordering: .relaxed)
        responder.onClientGone = { [unowned self, unowned sub] in self.remove(sub) }
        var opening = StreamWire.opening()
        if let from = resumeFrom, from <= head || Self.plausible(from) {
            // Below what the hub holds: reads as a gap, so a reset. Above it: an id another
            // instance has read already and this one not yet; its events arrive here shortly.
            sub.position = from
        } else if resumeRequested {
            // Unparseable, or ahead of anything Redis can have assigned: start over.
            opening += resetBytes(head, "unknown Last-Event-ID")
        }
        write(sub, opening, now: now)
        pump(sub)
    }

    /// Redis assigns ids from its clock: an id more than a few seconds ahead of ours is not one.
    static func plausible(_ id: EventId, nowMillis: Int64 = Clock.wallMillis()) -> Bool {
        id.ms <= UInt64(max(0, nowMillis)) + 5_000
    }

    private func resetBytes(_ head: EventId, _ reason: String) -> [UInt8] {
        limits.resets.add(1, ordering: .relaxed)
        return StreamWire.reset(at: head, reason: reason, prices: prices.entries)
    }

    /// What every reader at one position gets next when none of the events is its own: encoded
    /// once per loop pass and written to each of them (most readers are at the same position).
    struct Shared {
        let bytes: [UInt8]
        let sent: Int
        let through: EventId
        /// Users with events of their own in the range: their readers take the per-reader path.
        let users: Set<Int64>
    }

    private func shared(after position: EventId, _ cache: inout [EventId: Shared]) -> Shared? {
        if let hit = cache[position] { return hit }
        guard case .events(let events, let through) = hub.read(after: position, user: nil, limit: Self.readLimit),
            through != position
        else { return nil }
        var bytes: [UInt8] = []
        let sent = Self.encode(events.filter { $0.user == nil }, into: &bytes)
        let made = Shared(bytes: bytes, sent: sent, through: through, users: Set(events.compactMap(\.user)))
        cache[position] = made
        return made
    }

    /// Writes what `sub` may see after its position until it is current or its client is behind.
    /// `cache`: this loop pass's shared encodings, by position.
    func pump(_ sub: StreamSubscriber, _ cache: inout [EventId: Shared]) {
        guard !sub.closed, !sub.waiting else { return }
        var out: [UInt8] = []
        while sub.responder.wantsMore {
            out.removeAll(keepingCapacity: true)
            if let common = shared(after: sub.position, &cache), !common.users.contains(sub.user) {
                sub.position = common.through
                limits.eventsSent.add(common.sent, ordering: .relaxed)
                if !common.bytes.isEmpty { write(sub, common.bytes, now: Clock.monotonicNanos() / 1_000_000) }
                if sub.closed { return }
                continue
            }
            switch hub.read(after: sub.position, user: sub.user, limit: Self.readLimit) {
            case .gap:
                // Fell out of the window (or behind a Redis restart): a snapshot, then live.
                let head = hub.head
                out = resetBytes(head, "events after Last-Event-ID are no longer held")
                sub.position = head
            case .events(let events, let through):
                guard through != sub.position else { return }
                let sent = Self.encode(events, into: &out)
                sub.position = through
                limits.eventsSent.add(sent, ordering: .relaxed)
            }
            if !out.isEmpty { write(sub, out, now: Clock.monotonicNanos() / 1_000_000) }
            if sub.closed { return }
        }
        sub.waiting = true
        sub.responder.whenDrained { [weak self, weak sub] in
            guard let self, let sub else { return }
            sub.waiting = false
            var none: [EventId: Shared] = [:]
            self.pump(sub, &none)
        }
    }

    func pump(_ sub: StreamSubscriber) {
        var none: [EventId: Shared] = [:]
        pump(sub, &none)
    }

    /// The events' shared bytes, back to back, except price events that a later price of the same
    /// stock in this write replaces (a lagging client gets the latest price, not every step).
    /// Returns how many were written.
    static func encode(_ events: [StreamEvent], into out: inout [UInt8]) -> Int {
        var later: Set<Int64> = []
        var keep = [Bool](repeating: true, count: events.count)
        for i in events.indices.reversed() {
            guard let stock = events[i].priceOf else { continue }
            if !later.insert(stock).inserted { keep[i] = false }
        }
        var sent = 0
        for (i, e) in events.enumerated() where keep[i] {
            out.append(contentsOf: e.wire)
            sent += 1
        }
        return sent
    }

    private func write(_ sub: StreamSubscriber, _ bytes: [UInt8], now: UInt64) {
        sub.lastWrite = now
        limits.writes.add(1, ordering: .relaxed)
        let open = bytes.withUnsafeBytes { sub.responder.write($0) }
        if !open { remove(sub) }
    }

    private func pumpAll() {
        var cache: [EventId: Shared] = [:]
        for sub in Array(subscribers.values) { pump(sub, &cache) }
    }

    private func tick(_ now: UInt64) {
        guard !subscribers.isEmpty else { return }
        if io.draining {
            // SIGTERM: end the streams so the drain completes; EventSource reconnects elsewhere.
            for sub in Array(subscribers.values) {
                sub.responder.finish()
                remove(sub)
            }
            return
        }
        var cache: [EventId: Shared] = [:]
        for sub in Array(subscribers.values) {
            if sub.responder.inputClosed {
                // The gateway closed its socket: the browser left.
                remove(sub)
                sub.responder.abort()
                continue
            }
            pump(sub, &cache)
            if !sub.closed && !sub.waiting && now &- sub.lastWrite >= limits.heartbeatMillis {
                write(sub, StreamWire.heartbeat, now: now)
            }
        }
    }

    private func remove(_ sub: StreamSubscriber) {
        guard !sub.closed else { return }
        sub.closed = true
        sub.responder.onClientGone = nil
        subscribers[ObjectIdentifier(sub)] = nil
        wake.count.subtract(1, ordering: .relaxed)
        limits.release(sub.user)
    }

    var count: Int { subscribers.count }
}
