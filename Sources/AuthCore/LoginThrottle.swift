import ServiceCore

/// Login throttling on top of the gateway's per-IP rate limit, at two levels:
/// - per user name **and client address**: after `freeFailures` consecutive wrong passwords the
///   pair is blocked for 1 s, then 2, 4 … up to `maxBlockSeconds` per further failure. Someone
///   guessing from one address cannot lock the owner, who logs in from another, out.
/// - per user name from every address together, at `freeFailuresPerName`: a guesser spread over
///   many addresses is slowed down the same way, and only such a one can block the owner.
///
/// A success clears both counts. Counted for unknown names too, so the answers do not tell which
/// names exist. The course plan's single wrong password followed at once by the right one is never
/// blocked. The address is the gateway's `x-real-ip` (signed with its proof). State lives in Redis
/// (shared by every auth instance); if Redis is unreachable the throttle lets logins through (the
/// per-IP limit still applies) rather than lock every user out.
struct LoginThrottle: Sendable {
    static let freeFailures: Int64 = 5
    static let freeFailuresPerName: Int64 = 100
    static let maxBlockSeconds: Int64 = 900
    /// Failures older than this are forgotten.
    static let windowSeconds = 900

    /// One counter and one block: for a name from one address, or for the name from anywhere.
    struct Scope {
        let fail: String
        let block: String
        let free: Int64
    }

    static func scopes(_ name: String, address: String) -> [Scope] {
        [
            Scope(fail: "login:fail:\(name)|\(address)", block: "login:block:\(name)|\(address)", free: freeFailures),
            Scope(fail: "login:fail:\(name)", block: "login:block:\(name)", free: freeFailuresPerName),
        ]
    }

    /// Seconds the name stays blocked for this address (nil = may try now).
    func blockedFor(_ name: String, address: String, redis: RedisConnection?) -> Int64? {
        guard let redis,
            let replies = try? redis.pipeline(Self.scopes(name, address: address).map { ["PTTL", $0.block] })
        else { return nil }
        let ms = replies.compactMap(\.int).max() ?? 0
        return ms > 0 ? (ms + 999) / 1000 : nil
    }

    /// Counts a failure; blocks each scope once its free failures are used up.
    func failed(_ name: String, address: String, redis: RedisConnection?) {
        let scopes = Self.scopes(name, address: address)
        guard let redis,
            let replies = try? redis.pipeline(
                scopes.flatMap { [["INCR", $0.fail], ["EXPIRE", $0.fail, String(Self.windowSeconds)]] })
        else { return }
        for (i, scope) in scopes.enumerated() {
            guard let count = replies[2 * i].int, count >= scope.free else { continue }
            let seconds = Self.blockSeconds(afterFailures: count, free: scope.free)
            _ = try? redis.command(["SET", scope.block, "1", "EX", String(seconds)])
        }
    }

    func succeeded(_ name: String, address: String, redis: RedisConnection?) {
        _ = try? redis?.command(["DEL"] + Self.scopes(name, address: address).map(\.fail))
    }

    /// 1 s at the last free failure, doubling per failure after it, capped.
    static func blockSeconds(afterFailures count: Int64, free: Int64 = freeFailures) -> Int64 {
        let doublings = min(max(count - free, 0), 10)
        return min(Int64(1) << doublings, maxBlockSeconds)
    }
}
