import Glibc
import Ledger
import ServiceCore

/// One Redis entry per symbol, shared by every user and every classic service. A quote obtained
/// at `t` (our clock) serves commands stamped before `t + ttl` (ttl ≤ 60 s, spec §10.1). Only a
/// real hit costs money and is logged; concurrent misses on one symbol share a single hit
/// (a short Redis lock) instead of each paying for their own.
public final class QuoteCache: Sendable {
    public let source: any QuoteSource
    public let clock: any WallClock
    public let ttlMillis: Int64
    /// How long a caller waits for another caller's in-flight hit before fetching itself.
    let waitMillis: Int

    public static let hitsKey = "classic:quote:hits"
    public static let cacheHitsKey = "classic:quote:cache_hits"
    static func key(_ symbol: String) -> String { "classic:quote:" + symbol }
    static func lockKey(_ symbol: String) -> String { "classic:quote:lock:" + symbol }

    public init(source: any QuoteSource, clock: any WallClock, ttlMillis: Int64 = 60_000, waitMillis: Int = 6_000) {
        self.source = source
        self.clock = clock
        self.ttlMillis = min(60_000, max(1, ttlMillis))
        self.waitMillis = waitMillis
    }

    /// The first moment `q` no longer serves a decision (§10.1: a quote is good for the TTL).
    public func validUntil(_ q: Quote) -> Int64 { q.obtainedAt + ttlMillis }

    public struct Lookup: Sendable {
        public let quote: Quote
        /// True when this call paid for a real hit (log a quoteServer entry).
        public let fresh: Bool
        /// Our clock at the moment the price became usable: the command's timestamp.
        public let at: Int64
    }

    /// A usable quote for `symbol`, from the cache if one is young enough, else from the source.
    public func get(symbol: String, user: String, redis: RedisConnection?) throws(ClassicError) -> Lookup {
        guard let redis else { return try fetch(symbol: symbol, user: user, redis: nil) }
        let deadline = Clock.monotonicNanos() + UInt64(waitMillis) * 1_000_000
        let token = "\(ProcessEnvironment.processID)-\(Clock.monotonicNanos())"
        while true {
            let now = clock.nowMillis()
            if let q = cached(symbol, redis), now < validUntil(q) {
                _ = try? redis.command(["INCR", QuoteCache.cacheHitsKey])
                return Lookup(quote: q, fresh: false, at: max(now, q.obtainedAt))
            }
            let locked: Bool
            do {
                let r = try redis.command(["SET", QuoteCache.lockKey(symbol), token, "NX", "PX", String(waitMillis)])
                locked = r == .status("OK")
            } catch {
                return try fetch(symbol: symbol, user: user, redis: nil) // Redis down: no cache, still answer
            }
            if locked {
                defer { release(symbol, token, redis) }
                return try fetch(symbol: symbol, user: user, redis: redis)
            }
            if Clock.monotonicNanos() >= deadline { return try fetch(symbol: symbol, user: user, redis: redis) }
            usleep(10_000) // another caller is fetching this symbol; its reply lands in the cache
        }
    }

    /// A young-enough cached quote (counted as a cache hit), or nil: the caller parks the
    /// command on a `QuoteFlights` fetch instead of fetching on its own thread.
    public func cachedLookup(symbol: String, redis: RedisConnection?) -> Lookup? {
        guard let redis else { return nil }
        let now = clock.nowMillis()
        guard let q = cached(symbol, redis), now < validUntil(q) else { return nil }
        _ = try? redis.command(["INCR", QuoteCache.cacheHitsKey])
        return Lookup(quote: q, fresh: false, at: max(now, q.obtainedAt))
    }

    /// The cached quote regardless of age (the trigger worker checks age itself).
    public func peek(symbol: String, redis: RedisConnection) -> Quote? { cached(symbol, redis) }

    /// Stores a quote as if just fetched (tests and tools that seed prices).
    public func store(_ q: Quote, redis: RedisConnection) throws {
        try redis.command(["SET", QuoteCache.key(q.symbol), QuoteCache.encode(q), "PX", String(ttlMillis)])
    }

    public func forget(symbol: String, redis: RedisConnection) throws {
        try redis.command(["DEL", QuoteCache.key(symbol), QuoteCache.lockKey(symbol)])
    }

    /// Real hits and cache hits since the counters were created.
    public static func counters(_ redis: RedisConnection) throws -> (hits: Int64, cacheHits: Int64) {
        let r = try redis.pipeline([["GET", hitsKey], ["GET", cacheHitsKey]])
        return (r[0].int ?? 0, r[1].int ?? 0)
    }

    private func fetch(symbol: String, user: String, redis: RedisConnection?) throws(ClassicError) -> Lookup {
        let reply: QuoteReply
        do {
            reply = try source.fetch(symbol: symbol, user: user)
        } catch {
            throw ClassicError(.QUOTE_UNAVAILABLE, "quote server failed for \(symbol): \(error)")
        }
        let at = clock.nowMillis()
        let q = Quote(
            symbol: symbol, user: reply.user.isEmpty ? user : reply.user, priceCents: reply.priceCents,
            quoteServerTime: reply.quoteServerTime, cryptokey: reply.cryptokey, obtainedAt: at)
        if let redis {
            _ = try? redis.pipeline([
                ["SET", QuoteCache.key(symbol), QuoteCache.encode(q), "PX", String(ttlMillis)],
                ["INCR", QuoteCache.hitsKey],
            ])
        }
        return Lookup(quote: q, fresh: true, at: at)
    }

    private func cached(_ symbol: String, _ redis: RedisConnection) -> Quote? {
        guard let r = try? redis.command(["GET", QuoteCache.key(symbol)]), let text = r.text else { return nil }
        return QuoteCache.decode(text, symbol: symbol)
    }

    private func release(_ symbol: String, _ token: String, _ redis: RedisConnection) {
        // Delete the lock only if it is still ours (it may have timed out and been taken over).
        _ = try? redis.command([
            "EVAL", "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end",
            "1", QuoteCache.lockKey(symbol), token,
        ])
    }

    // JSON, so free-text fields (user, cryptokey) cannot break the encoding.
    static func encode(_ q: Quote) -> String {
        JSON.object([
            ("p", .int(q.priceCents)), ("at", .int(q.obtainedAt)), ("qt", .int(q.quoteServerTime)),
            ("u", .string(q.user)), ("k", .string(q.cryptokey)),
        ]).serialized()
    }

    static func decode(_ text: String, symbol: String) -> Quote? {
        guard let j = try? JSON.parse(text), let p = j["p"]?.int64Value, p > 0, let at = j["at"]?.int64Value,
            let qt = j["qt"]?.int64Value
        else { return nil }
        return Quote(
            symbol: symbol, user: j["u"]?.stringValue ?? "", priceCents: p, quoteServerTime: qt,
            cryptokey: j["k"]?.stringValue ?? "", obtainedAt: at)
    }
}
