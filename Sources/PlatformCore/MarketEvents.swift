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
/// Each entry's single field `json` is the event as the stream endpoint sends it.
public enum MarketEvents {
    public static let marketStream = "events:market"
    public static func userStream(_ userId: Int64) -> String { "events:user:\(userId)" }
    /// Approximate caps (`MAXLEN ~`): enough for a reconnecting client, bounded memory.
    static let marketCap = 10_000
    static let userCap = 1_000

    static func commands(_ e: BatchEvents, orders: [BatchEvents.OrderChange], prices: [(id: Int64, cents: Int64)]) -> [[String]] {
        var out: [[String]] = []
        func add(_ key: String, cap: Int, _ json: JSON) {
            out.append(["XADD", key, "MAXLEN", "~", String(cap), "*", "json", json.serialized()])
        }
        for t in e.trades {
            add(marketStream, cap: marketCap, .object([
                ("type", .string("trade")), ("stock_id", .string(String(t.stockId))), ("price", Money.json(t.priceCents)),
                ("quantity", .int(t.quantity)), ("time_ms", .int(t.millis)),
            ]))
        }
        for p in prices {
            add(marketStream, cap: marketCap, .object([
                ("type", .string("price")), ("stock_id", .string(String(p.id))), ("current_price", Money.json(p.cents)),
            ]))
        }
        for o in orders {
            add(userStream(o.owner), cap: userCap, .object([
                ("type", .string("order")), ("stock_tx_id", .string(String(o.id))), ("order_status", .string(o.status.rawValue)),
                ("remaining", .int(o.remaining)),
            ]))
        }
        return out
    }
}
