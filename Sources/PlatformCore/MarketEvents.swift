import ServiceCore
import StreamCore

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

/// Committed facts appended to the Redis stream `events` after each batch commits (EventLog: one
/// key for every engine process, Redis-assigned ids), with the moved prices in the `prices` hash
/// first, so a reader that sees a price event finds the price there. A cache: losing Redis loses
/// no money, and a reader whose position is gone gets a reset snapshot instead.
public enum MarketEvents {
    /// The batch's HSETs and XADDs, in order. `commitMillis`: when the batch's COMMIT returned
    /// (wall clock), in every event's data, so a reader can tell how long a fact took to reach it.
    static func commands(
        _ e: BatchEvents, orders: [BatchEvents.OrderChange], prices: [(id: Int64, cents: Int64, name: String)],
        commitMillis: Int64 = Clock.wallMillis()
    ) -> [[String]] {
        var out: [[String]] = prices.map { EventLog.price(stockId: $0.id, name: $0.name, cents: $0.cents) }
        func add(_ type: String, _ fields: [(String, JSON)], user: Int64? = nil, stock: Int64? = nil) {
            let json = JSON.object(fields + [("commit_ms", .int(commitMillis))]).serialized()
            out.append(EventLog.append(type: type, json: json, user: user, stock: stock))
        }
        for t in e.trades {
            add(
                "trade",
                [
                    ("stock_id", .string(String(t.stockId))), ("price", Money.json(t.priceCents)),
                    ("quantity", .int(t.quantity)), ("time_ms", .int(t.millis)),
                ])
        }
        for p in prices {
            add("price", [("stock_id", .string(String(p.id))), ("current_price", Money.json(p.cents))], stock: p.id)
        }
        for o in orders {
            add(
                "order",
                [
                    ("stock_tx_id", .string(String(o.id))), ("order_status", .string(o.status.rawValue)),
                    ("remaining", .int(o.remaining)),
                ], user: o.owner)
        }
        return out
    }
}
