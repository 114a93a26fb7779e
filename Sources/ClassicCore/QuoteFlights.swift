import ServiceCore
import Synchronization

/// Commands parked on a quote-cache miss (issue 12: "no thread waits on a quote"). A miss hands
/// the command's continuation here and its HTTP worker returns to the pool; one fetch per symbol
/// is in flight however many commands wait for it (single flight), and when the price arrives
/// every waiter resumes on a worker with it. The first waiter owns the paid hit (its command logs
/// the quoteServer entry), the others take it as a cache hit stamped when it reached them.
///
/// Bounded: at most `maxParked` commands wait at once (beyond that a command fails at once with
/// QUOTE_UNAVAILABLE, logged as usual) and at most `maxFetchers` threads call the quote server;
/// further symbols queue for the next free fetcher. Fetches go through `QuoteCache.get`, so the
/// Redis lock still gives one hit per symbol across services, and its cache serves everyone.
public final class QuoteFlights: Sendable {
    public typealias Waiter = @Sendable (Result<QuoteCache.Lookup, ClassicError>) -> Void

    let cache: QuoteCache
    let redis: RedisTarget?
    let maxParked: Int
    let maxFetchers: Int
    private let state = Mutex(State())

    private struct State {
        var waiters: [String: [(user: String, waiter: Waiter)]] = [:]
        /// Symbols waiting for a free fetcher, oldest first.
        var queued: [String] = []
        var parked = 0
        var fetchers = 0
        /// Redis connections of fetchers that finished (reused, so a miss costs no new login).
        var idle: [Box] = []
    }

    fileprivate final class Box: @unchecked Sendable {
        let conn: RedisConnection
        init(_ c: RedisConnection) { conn = c }
    }

    public init(cache: QuoteCache, redis: RedisTarget?, maxParked: Int = 4096, maxFetchers: Int = 64) {
        self.cache = cache
        self.redis = redis
        self.maxParked = max(1, maxParked)
        self.maxFetchers = max(1, maxFetchers)
    }

    /// Commands parked right now (for tests and metrics).
    public var parked: Int { state.withLock { $0.parked } }

    /// Parks `waiter` until `symbol`'s quote arrives (or fails); false when `maxParked` commands
    /// already wait (the caller fails the command). `waiter` runs on a fetcher thread.
    public func wait(symbol: String, user: String, _ waiter: @escaping Waiter) -> Bool {
        enum Step { case refused, joined, startFetcher }
        let step: Step = state.withLock { s in
            guard s.parked < maxParked else { return .refused }
            s.parked += 1
            if s.waiters[symbol] != nil {
                s.waiters[symbol, default: []].append((user, waiter))
                return .joined
            }
            s.waiters[symbol] = [(user, waiter)]
            guard s.fetchers < maxFetchers else {
                s.queued.append(symbol)
                return .joined
            }
            s.fetchers += 1
            return .startFetcher
        }
        switch step {
        case .refused: return false
        case .joined: return true
        case .startFetcher:
            Threads.start(name: "quote-fetch", stackSize: 256 * 1024) { [self] in fetchLoop(first: symbol) }
            return true
        }
    }

    /// One fetcher: fetches `first`, then whatever symbols queued meanwhile, then ends.
    private func fetchLoop(first: String) {
        var redisConn = takeRedis()
        var next: String? = first
        while let symbol = next {
            let user = state.withLock { $0.waiters[symbol]?.first?.user } ?? ""
            let result: Result<QuoteCache.Lookup, ClassicError>
            do {
                result = .success(try cache.get(symbol: symbol, user: user, redis: redisConn?.conn))
            } catch {
                result = .failure(error)
                redisConn = nil // may be the cause; a fresh one next time
            }
            let waiters = state.withLock { s -> [(user: String, waiter: Waiter)] in
                let w = s.waiters.removeValue(forKey: symbol) ?? []
                s.parked -= w.count
                return w
            }
            deliver(result, to: waiters.map(\.waiter), redis: redisConn?.conn)
            next = state.withLock { s -> String? in
                guard !s.queued.isEmpty else {
                    s.fetchers -= 1
                    if let c = redisConn { s.idle.append(c) }
                    return nil
                }
                return s.queued.removeFirst()
            }
        }
    }

    /// The first waiter gets the lookup as fetched; the rest share it as cache hits, each stamped
    /// when it reaches them (their decision follows the price's arrival, as a cache hit's does).
    private func deliver(
        _ result: Result<QuoteCache.Lookup, ClassicError>, to waiters: [Waiter], redis: RedisConnection?
    ) {
        guard let first = waiters.first else { return }
        first(result)
        guard waiters.count > 1 else { return }
        if case .success = result, let redis {
            _ = try? redis.command(["INCRBY", QuoteCache.cacheHitsKey, String(waiters.count - 1)])
        }
        for w in waiters.dropFirst() {
            switch result {
            case .success(let look):
                let now = cache.clock.nowMillis()
                w(.success(QuoteCache.Lookup(quote: look.quote, fresh: false, at: max(now, look.quote.obtainedAt))))
            case .failure:
                w(result)
            }
        }
    }

    private func takeRedis() -> Box? {
        if let c = state.withLock({ $0.idle.popLast() }) { return c }
        guard let redis else { return nil }
        return (try? RedisConnection(redis)).map(Box.init)
    }
}
