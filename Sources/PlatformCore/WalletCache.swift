import ServiceCore
import Synchronization

/// Redis copy of each user's free cash (`wallet:<user_id>` = `<version>:<cents>`), for
/// getWalletBalance only; money decisions always read PostgreSQL. Every change of an account's
/// cash bumps `accounts.version` (migration 203), and every write here is a compare-and-set on
/// that version: the engine's write-through after each commit, a reader's fill of a miss, and the
/// invalidator's tombstone (`<version>:-`) for cash moved outside the engine. So a value read
/// before a commit can never overwrite a newer one or the tombstone that commit left — no stale
/// balance outlives a classic command. Entries expire after `ttlSeconds`. If a write fails,
/// readers bypass Redis until every entry written before the failure has expired.
public final class WalletCache: Sendable {
    public static let ttlSeconds = 30
    private let bypassUntilNanos = Atomic<UInt64>(0)

    public init() {}

    public static func key(_ userId: Int64) -> String { "wallet:\(userId)" }

    /// Sets KEYS[1] to ARGV[1]:ARGV[2] unless it holds a newer version, or the same version
    /// with a value where ARGV[2] is the tombstone `-` (or the same value).
    static let compareAndSet = """
        local cur = redis.call('GET', KEYS[1])
        if cur then
          local sep = string.find(cur, ':', 1, true)
          local v = -1
          if sep then v = tonumber(string.sub(cur, 1, sep - 1)) or -1 end
          local nv = tonumber(ARGV[1])
          if v > nv then return 0 end
          if v == nv and (ARGV[2] == '-' or string.sub(cur, sep + 1) ~= '-') then return 0 end
        end
        redis.call('SET', KEYS[1], ARGV[1] .. ':' .. ARGV[2], 'EX', ARGV[3])
        return 1
        """

    static func setCommand(_ userId: Int64, version: Int64, value: String) -> [String] {
        ["EVAL", compareAndSet, "1", key(userId), String(version), value, String(ttlSeconds)]
    }

    var bypassing: Bool { Clock.monotonicNanos() < bypassUntilNanos.load(ordering: .acquiring) }

    func markUnreliable() {
        bypassUntilNanos.store(
            Clock.monotonicNanos() + UInt64(Self.ttlSeconds + 1) * 1_000_000_000, ordering: .releasing)
    }

    /// Cached cents, or nil (miss, tombstone, bypass, or Redis down).
    public func read(_ redis: () throws -> RedisConnection, userId: Int64) -> Int64? {
        guard !bypassing else { return nil }
        guard let reply = try? redis().command(["GET", Self.key(userId)]), let text = reply.text,
            let sep = text.firstIndex(of: ":")
        else { return nil }
        return Int64(text[text.index(after: sep)...])
    }

    /// A reader's fill after a miss: `cents` as read at `version`.
    public func fill(_ redis: () throws -> RedisConnection, userId: Int64, cents: Int64, version: Int64) {
        guard !bypassing else { return }
        _ = try? redis().command(Self.setCommand(userId, version: version, value: String(cents)))
    }

    /// Engine thread, after COMMIT.
    func writeThrough(_ redis: RedisConnection?, _ values: [Int64: BatchJournal.Cash]) {
        guard !values.isEmpty else { return }
        send(redis, values.map { Self.setCommand($0.key, version: $0.value.version, value: String($0.value.cents)) })
    }

    /// Invalidator: cash of these accounts changed outside the engine, at these versions.
    func tombstone(_ redis: RedisConnection?, _ versions: [Int64: Int64]) {
        guard !versions.isEmpty else { return }
        send(redis, versions.map { Self.setCommand($0.key, version: $0.value, value: "-") })
    }

    private func send(_ redis: RedisConnection?, _ commands: [[String]]) {
        guard let redis else {
            markUnreliable()
            return
        }
        do {
            let replies = try redis.pipeline(commands)
            if replies.contains(where: { if case .error = $0 { return true } else { return false } }) {
                markUnreliable()
            }
        } catch {
            markUnreliable()
        }
    }

    /// Drops every cached balance (test reset).
    func clearAll(_ redis: RedisConnection?) {
        guard let redis else {
            markUnreliable()
            return
        }
        do {
            var cursor = "0"
            repeat {
                let reply = try redis.command(["SCAN", cursor, "MATCH", "wallet:*", "COUNT", "1000"])
                guard case .array(let parts) = reply, parts.count == 2, let next = parts[0].text,
                    case .array(let keys) = parts[1]
                else {
                    markUnreliable()
                    return
                }
                let names = keys.compactMap(\.text)
                if !names.isEmpty { try redis.command(["DEL"] + names) }
                cursor = next
            } while cursor != "0"
        } catch {
            markUnreliable()
        }
    }
}
