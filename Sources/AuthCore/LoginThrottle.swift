import ServiceCore

/// Per-account login throttling on top of the gateway's per-IP limit: after `freeFailures`
/// consecutive wrong passwords for one user name, that name is blocked for 1 s, then 2, 4 …
/// up to `maxBlockSeconds` per further failure; a success clears the count. Counted for unknown
/// names too, so the answers do not tell which names exist. The course plan's single wrong
/// password followed at once by the right one is never blocked.
///
/// State lives in Redis (shared by every auth instance). If Redis is unreachable the throttle
/// lets logins through (the per-IP limit still applies) rather than lock every user out.
struct LoginThrottle: Sendable {
    static let freeFailures: Int64 = 5
    static let maxBlockSeconds: Int64 = 900
    /// Failures older than this are forgotten.
    static let windowSeconds = 900

    static func failKey(_ name: String) -> String { "login:fail:\(name)" }
    static func blockKey(_ name: String) -> String { "login:block:\(name)" }

    /// Seconds the name stays blocked (nil = may try now).
    func blockedFor(_ name: String, redis: RedisConnection?) -> Int64? {
        guard let redis, let ms = try? redis.command(["PTTL", Self.blockKey(name)]).int, ms > 0 else { return nil }
        return (ms + 999) / 1000
    }

    /// Counts a failure; blocks the name once the free failures are used up.
    func failed(_ name: String, redis: RedisConnection?) {
        guard let redis,
            let replies = try? redis.pipeline([
                ["INCR", Self.failKey(name)],
                ["EXPIRE", Self.failKey(name), String(Self.windowSeconds)],
            ]),
            let count = replies.first?.int, count >= Self.freeFailures
        else { return }
        let seconds = Self.blockSeconds(afterFailures: count)
        _ = try? redis.command(["SET", Self.blockKey(name), "1", "EX", String(seconds)])
    }

    func succeeded(_ name: String, redis: RedisConnection?) {
        _ = try? redis?.command(["DEL", Self.failKey(name)])
    }

    /// 1 s at the 5th failure, doubling per failure after it, capped.
    static func blockSeconds(afterFailures count: Int64) -> Int64 {
        let doublings = min(max(count - freeFailures, 0), 10)
        return min(Int64(1) << doublings, maxBlockSeconds)
    }
}
