import ServiceCore

/// The text/event-stream encoding of the stream's events (WHATWG HTML, "Server-sent events"):
/// `id:` is the Redis stream id (sent back by EventSource as Last-Event-ID on reconnect), `event:` the
/// name (trade, price, order, reset), `data:` one line of JSON; comments (`:`) keep the
/// connection alive without waking the page.
enum StreamWire {
    /// EventSource's reconnect delay, sent once at the start.
    static let retryMillis = 2000

    static func append(id: EventId, name: String, data: String, to out: inout [UInt8]) {
        out.append(contentsOf: "id: \(id)\nevent: \(name)\ndata: ".utf8)
        // Serialized JSON escapes line breaks inside strings; one data line whatever the payload.
        out.append(contentsOf: data.utf8.lazy.filter { $0 != 10 && $0 != 13 })
        out.append(contentsOf: "\n\n".utf8)
    }

    static func opening() -> [UInt8] { Array("retry: \(retryMillis)\n: stream open\n\n".utf8) }
    static let heartbeat: [UInt8] = Array(": ping\n\n".utf8)

    /// The `reset` event: the reader's position is gone (older than the window, from before a
    /// restart, or it lagged too far behind), so it gets the current prices and the id to carry on
    /// from; the page refetches the rest (wallet, orders, depth) over REST.
    static func reset(at head: EventId, reason: String, prices: [PriceSnapshot.Entry]) -> [UInt8] {
        let data = JSON.object([
            ("reason", .string(reason)),
            ("last_event_id", .string(head.description)),
            (
                "prices",
                .array(
                    prices.map {
                        .object([
                            ("stock_id", .string(String($0.stockId))), ("stock_name", .string($0.name)),
                            ("current_price", Money.json($0.priceCents)),
                        ])
                    })
            ),
        ])
        var out: [UInt8] = []
        append(id: head, name: "reset", data: data.serialized(), to: &out)
        return out
    }
}
