import ServiceCore

/// What one engine batch changed, for the event streams: trades, the stocks whose price may
/// have moved, and (from the journal) every order whose state changed.
struct BatchEvents {
    struct Trade {
        var stockId: Int64
        var priceCents: Int64
        var quantity: Int64
        var millis: Int64
    }

    struct OrderChange {
        var owner: Int64
        var id: Int64
        var status: OrderStatus
        var remaining: Int64
    }

    var trades: [Trade] = []
    var touchedStocks: Set<Int64> = []
}

/// Committed facts appended to Redis Streams after each batch commits (a cache: losing Redis
/// loses no money, and a reader whose position is gone gets a reset snapshot instead).
/// `events:market` holds public trades and prices; `events:user:<id>` one user's order changes.
/// Each entry has its event's id (the same id space in every stream), `type` and `json`.
public enum MarketEvents {
    public static let marketStream = "events:market"
    public static func userStream(_ userId: Int64) -> String { "events:user:\(userId)" }
    /// Approximate caps (`MAXLEN ~`): enough for a reconnecting client, bounded memory.
    static let marketCap = 10_000
    static let userCap = 1_000

    /// The batch's events in order, numbered from `ids` (the engine's id source).
    /// `commitMillis`: when the batch's COMMIT returned (wall clock), in every event's data, so a
    /// reader can tell how long a fact took to reach it.
    static func events(
        _ e: BatchEvents, orders: [BatchEvents.OrderChange], prices: [(id: Int64, cents: Int64)],
        ids: inout EventIds, commitMillis: Int64 = Clock.wallMillis()
    ) -> [StreamEvent] {
        var out: [StreamEvent] = []
        func add(_ user: Int64?, _ name: String, _ fields: [(String, JSON)]) {
            let json = JSON.object(fields + [("commit_ms", .int(commitMillis))])
            out.append(
                StreamEvent(id: ids.next(nowMillis: commitMillis), user: user, name: name, data: json.serialized()))
        }
        for t in e.trades {
            add(
                nil, "trade",
                [
                    ("stock_id", .string(String(t.stockId))), ("price", Money.json(t.priceCents)),
                    ("quantity", .int(t.quantity)), ("time_ms", .int(t.millis)),
                ])
        }
        for p in prices {
            add(nil, "price", [("stock_id", .string(String(p.id))), ("current_price", Money.json(p.cents))])
        }
        for o in orders {
            add(
                o.owner, "order",
                [
                    ("stock_tx_id", .string(String(o.id))), ("order_status", .string(o.status.rawValue)),
                    ("remaining", .int(o.remaining)),
                ])
        }
        return out
    }

    /// XADDs of the events, with their ids (or, `redisIds`, ids Redis assigns: several engine
    /// shards write one stream), to the market or the user's stream.
    static func commands(_ events: [StreamEvent], redisIds: Bool = false) -> [[String]] {
        events.map { e in
            let (key, cap) = e.user.map { (userStream($0), userCap) } ?? (marketStream, marketCap)
            let id = redisIds ? "*" : e.id.description
            return ["XADD", key, "MAXLEN", "~", String(cap), id, "type", e.name, "json", e.data]
        }
    }
}

/// Event ids in commit order: the wall clock's millisecond, and a sequence within it. Never goes
/// back, even if the clock does. Engine thread only.
struct EventIds {
    private var last: EventId

    /// Every id given out is above `after` (the hub's floor, so a reader that starts at the
    /// floor misses none).
    init(after: EventId = EventId(ms: 0, seq: 0)) { last = after }

    mutating func next(nowMillis: Int64 = Clock.wallMillis()) -> EventId {
        last = nowMillis > last.ms ? EventId(ms: nowMillis, seq: 0) : EventId(ms: last.ms, seq: last.seq + 1)
        return last
    }
}
