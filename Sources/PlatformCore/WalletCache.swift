import ServiceCore
import Synchronization

/// Redis copy of each user's free cash (`wallet:<user_id>` = cents), for getWalletBalance only;
/// money decisions always read PostgreSQL. The engine writes values through after each commit,
/// in commit order from its one thread; readers fill a miss with SET NX so a value read before
/// a commit can never overwrite the engine's newer one. Entries expire after `ttlSeconds`,
/// which bounds staleness from writers outside the engine (classic commands should DEL the key).
/// If a write-through fails, readers bypass Redis until every entry written before the failure
/// has expired.
public final class WalletCache: Sendable {
    public static let ttlSeconds = 30
    private let bypassUntilNanos = Atomic<UInt64>(0)

    public init() {}

    public static func key(_ userId: Int64) -> String { "wallet:\(userId)" }

    var bypassing: Bool { Clock.monotonicNanos() < bypassUntilNanos.load(ordering: .acquiring) }

    func markUnreliable() {
        bypassUntilNanos.store(Clock.monotonicNanos() + UInt64(Self.ttlSeconds + 1) * 1_000_000_000, ordering: .releasing)
    }

    /// Cached cents, or nil (miss, bypass, or Redis down).
    public func read(_ redis: () throws -> RedisConnection, userId: Int64) -> Int64? {
        guard !bypassing else { return nil }
        guard let reply = try? redis().command(["GET", Self.key(userId)]) else { return nil }
        if case .string = reply { return reply.int }
        return nil
    }

    public func fill(_ redis: () throws -> RedisConnection, userId: Int64, cents: Int64) {
        guard !bypassing else { return }
        _ = try? redis().command(["SET", Self.key(userId), String(cents), "EX", String(Self.ttlSeconds), "NX"])
    }

    /// Engine thread, after COMMIT.
    func writeThrough(_ redis: RedisConnection?, _ values: [Int64: Int64]) {
        guard !values.isEmpty else { return }
        guard let redis else { markUnreliable(); return }
        let ttl = String(Self.ttlSeconds)
        let commands = values.map { ["SET", Self.key($0.key), String($0.value), "EX", ttl] }
        do {
            let replies = try redis.pipeline(commands)
            if replies.contains(where: { if case .error = $0 { return true } else { return false } }) { markUnreliable() }
        } catch {
            markUnreliable()
        }
    }

    /// Drops every cached balance (test reset).
    func clearAll(_ redis: RedisConnection?) {
        guard let redis else { markUnreliable(); return }
        do {
            var cursor = "0"
            repeat {
                let reply = try redis.command(["SCAN", cursor, "MATCH", "wallet:*", "COUNT", "1000"])
                guard case .array(let parts) = reply, parts.count == 2, let next = parts[0].text,
                      case .array(let keys) = parts[1] else { markUnreliable(); return }
                let names = keys.compactMap(\.text)
                if !names.isEmpty { try redis.command(["DEL"] + names) }
                cursor = next
            } while cursor != "0"
        } catch {
            markUnreliable()
        }
    }
}
