import Glibc
import ServiceCore
import Synchronization

/// Reads the `events` stream into the hub: one reader thread per stream-service process (not one
/// per client or per loop), `XREAD BLOCK` on its own connection, so the per-client work is only
/// the loops' writes. At start it seeds the hub with what Redis holds (so a client resuming here
/// from another instance finds its id), then follows the stream.
///
/// Coalescing: after a read it waits (`GatherWindow`: short while events are sparse, long while
/// they come fast) before the next one, so a burst of commits reaches the hub (and each client)
/// in one piece: one wake of each loop, one write per client.
///
/// Redis trouble: the thread reconnects every `retryMillis`; if the entry it had read last is no
/// longer in the stream (Redis restarted without its data) or a writer marked a gap, it starts
/// over from what Redis holds, and every reader behind that point gets a `reset`.
public final class RedisEventFeed: Sendable {
    let target: RedisTarget
    let hub: EventHub
    let prices: PriceSnapshot
    let logger: Logger
    let window: GatherWindow
    let blockMillis: Int
    let retryMillis: Int
    private let connectedFlag = Atomic<Bool>(false)
    private let restarts = Atomic<Int>(0)
    private let reads = Atomic<Int>(0)

    public init(
        target: RedisTarget, hub: EventHub, prices: PriceSnapshot, logger: Logger,
        window: GatherWindow = GatherWindow(minMillis: 10, maxMillis: 10, busyPerSecond: 1),
        blockMillis: Int = 1000, retryMillis: Int = 250
    ) {
        self.target = target
        self.hub = hub
        self.prices = prices
        self.logger = logger
        self.window = window
        self.blockMillis = max(10, blockMillis)
        self.retryMillis = max(10, retryMillis)
    }

    public var isConnected: Bool { connectedFlag.load(ordering: .relaxed) }
    /// Times the hub started over (Redis lost events): each resets the readers behind it.
    public var restartCount: Int { restarts.load(ordering: .relaxed) }
    public var readCount: Int { reads.load(ordering: .relaxed) }

    public func start() {
        Threads.start(name: "event-feed") { [self] in run() }
    }

    private func run() {
        var window = self.window
        var redis: RedisConnection?
        var last: EventId? // nil: (re)seed from Redis
        var wasDown = false
        while true {
            do {
                let r: RedisConnection
                if let redis {
                    r = redis
                } else {
                    // No silent reconnect: a Redis restarted between two reads must show here as
                    // an error, or its lost entries would never give the readers a reset.
                    r = try RedisConnection(target, timeoutMillis: blockMillis + 2000, reconnects: false)
                    redis = r
                }
                if let at = last, wasDown, try !holds(r, at) { last = nil }
                if last == nil { last = try seed(r) }
                if wasDown { logger.info("event feed reconnected to Redis") }
                wasDown = false
                connectedFlag.store(true, ordering: .relaxed)
                let started = Clock.monotonicNanos()
                var read = 0
                if let at = last { (last, read) = try readOnce(r, after: at) }
                let spent = Int((Clock.monotonicNanos() &- started) / 1_000_000)
                let pause = window.pause(afterReading: read)
                if pause > 0 && spent < blockMillis { usleep(UInt32(pause) * 1000) }
            } catch {
                if !wasDown { logger.warning("event feed lost Redis; retrying", error: error) }
                wasDown = true
                redis = nil
                connectedFlag.store(false, ordering: .relaxed)
                usleep(UInt32(retryMillis) * 1000)
            }
        }
    }

    /// Whether `id` is still in the stream (false: Redis lost data since it was read).
    private func holds(_ r: RedisConnection, _ id: EventId) throws -> Bool {
        let reply = try r.command(["XRANGE", EventLog.streamKey, id.description, id.description, "COUNT", "1"])
        if case .array(let entries) = reply { return !entries.isEmpty }
        return false
    }

    /// Fills the hub with what the stream holds now; returns the position to read on from.
    private func seed(_ r: RedisConnection) throws -> EventId {
        let replies = try r.pipeline([
            ["TIME"], ["XREVRANGE", EventLog.streamKey, "+", "-", "COUNT", String(hub.capacity)],
            ["HGETALL", EventLog.pricesKey],
        ])
        guard replies.count == 3, case .array(let time) = replies[0], time.count == 2, let secs = time[0].int,
            let micros = time[1].int
        else { throw RedisError(message: "unexpected TIME reply") }
        var events = Self.entries(replies[1]).reversed().compactMap(Self.event)
        // A writer's gap marker in the window: only what follows it is whole.
        if let gap = events.lastIndex(where: { $0.name == EventLog.gapType }) { events.removeFirst(gap + 1) }
        // Empty: anything before Redis's clock now is gone (ids it assigns from now on are later).
        let nowMs = UInt64(max(0, secs)) * 1000 + UInt64(max(0, micros)) / 1000
        let floor = events.first?.id ?? EventId(ms: nowMs &- 1, seq: UInt64.max)
        updatePrices(replies[2])
        hub.restart(floor: floor, with: events)
        restarts.add(1, ordering: .relaxed)
        logger.info(
            "event feed seeded from Redis",
            metadata: ["events": .stringConvertible(events.count), "floor": .string(floor.description)])
        return events.last?.id ?? floor
    }

    /// One XREAD (blocking up to `blockMillis`); returns the new position and the entries read.
    private func readOnce(_ r: RedisConnection, after: EventId) throws -> (EventId, Int) {
        let reply = try r.command([
            "XREAD", "COUNT", "5000", "BLOCK", String(blockMillis), "STREAMS", EventLog.streamKey, after.description,
        ])
        reads.add(1, ordering: .relaxed)
        // [[key, [entry...]]] or null (timed out).
        guard case .array(let streams) = reply, case .array(let pair)? = streams.first, pair.count == 2 else {
            if case .error(let message) = reply { throw RedisError(message: message) }
            return (after, 0)
        }
        var batch: [StreamEvent] = []
        var position = after
        var pricesMoved = false
        let entries = Self.entries(pair[1])
        for entry in entries {
            guard let e = Self.event(entry) else { continue }
            position = e.id
            if e.name == EventLog.gapType {
                // A writer lost events before this point: readers behind it start over.
                hub.append(batch)
                batch = []
                hub.restart(floor: e.id, with: [])
                restarts.add(1, ordering: .relaxed)
                continue
            }
            if e.priceOf != nil { pricesMoved = true }
            batch.append(e)
        }
        if pricesMoved { updatePrices(try r.command(["HGETALL", EventLog.pricesKey])) }
        hub.append(batch)
        return (position, entries.count)
    }

    private func updatePrices(_ reply: RedisReply) {
        guard case .array(let flat) = reply else { return }
        var out: [PriceSnapshot.Entry] = []
        var i = 0
        while i + 1 < flat.count {
            if let id = flat[i].text.flatMap({ Int64($0) }), let v = flat[i + 1].text.flatMap(EventLog.parsePrice) {
                out.append(PriceSnapshot.Entry(stockId: id, name: v.name, priceCents: v.cents))
            }
            i += 2
        }
        prices.replace(out)
    }

    /// The entries of an XRANGE/XREVRANGE/XREAD reply: [[id, [field, value, ...]], ...].
    static func entries(_ reply: RedisReply) -> [RedisReply] {
        if case .array(let list) = reply { return list }
        return []
    }

    /// One stream entry as an event; nil when it is not one of ours.
    static func event(_ entry: RedisReply) -> StreamEvent? {
        guard case .array(let parts) = entry, parts.count == 2, let id = parts[0].text.flatMap({ EventId($0) }),
            case .array(let fields) = parts[1]
        else { return nil }
        var type: String?
        var json: String?
        var user: Int64?
        var stock: Int64?
        var i = 0
        while i + 1 < fields.count {
            switch fields[i].text {
            case "type": type = fields[i + 1].text
            case "json": json = fields[i + 1].text
            case "user": user = fields[i + 1].int
            case "stock": stock = fields[i + 1].int
            default: break
            }
            i += 2
        }
        guard let type else { return nil }
        if type == EventLog.gapType { return StreamEvent(id: id, user: nil, name: type, data: "{}") }
        guard let json else { return nil }
        return StreamEvent(id: id, user: user, name: type, data: json, priceOf: type == "price" ? stock : nil)
    }
}
