import ServiceCore

/// The Redis layout shared by the engine (writer) and the stream service (reader).
///
/// `events` is one stream for every committed fact, public and per user, appended with
/// Redis-assigned ids (`XADD events MAXLEN ~ cap * …`), so events of several engine processes
/// merge in one order. Each entry has `type` (trade, price, order, or `gap`: a writer lost
/// events, readers must reset), `json` (the SSE data), for one user's events `user`, and for a
/// price event `stock`.
/// `prices` is a hash stock id → "<cents>:<name>", the reset snapshot's prices.
/// Both are a cache of committed facts: losing Redis loses no money, only events (readers reset).
public enum EventLog {
    public static let streamKey = "events"
    public static let pricesKey = "prices"
    /// Approximate cap (`MAXLEN ~`): a reconnecting client's window, bounded memory (~10 MB).
    public static let streamCap = 50_000
    public static let gapType = "gap"

    /// The XADD of one event (`user` nil: public; `stock`: a price event's stock, so a reader can
    /// replace an older price by a newer one without parsing the JSON).
    public static func append(type: String, json: String, user: Int64? = nil, stock: Int64? = nil) -> [String] {
        var c = ["XADD", streamKey, "MAXLEN", "~", String(streamCap), "*", "type", type, "json", json]
        if let user { c += ["user", String(user)] }
        if let stock { c += ["stock", String(stock)] }
        return c
    }

    /// The marker a writer appends after it had to drop events (Redis away too long).
    public static let gap = ["XADD", streamKey, "MAXLEN", "~", String(streamCap), "*", "type", gapType]

    /// The HSET of a stock's current price for the reset snapshot.
    public static func price(stockId: Int64, name: String, cents: Int64) -> [String] {
        ["HSET", pricesKey, String(stockId), "\(cents):\(name)"]
    }

    /// A `prices` hash value back as (cents, name); nil when malformed.
    public static func parsePrice(_ value: String) -> (cents: Int64, name: String)? {
        guard let colon = value.firstIndex(of: ":"), let cents = Int64(value[..<colon]) else { return nil }
        return (cents, String(value[value.index(after: colon)...]))
    }
}
