import ServiceCore

/// The same cache read and fill as `read`/`fill`, through the event loop's non-blocking Redis
/// connection, so a balance read holds no worker while Redis answers. Same keys, same
/// compare-and-set script: the version rules do not depend on which path wrote.
extension WalletCache {
    /// `done(cents)` on a hit; nil on a miss, a tombstone, a bypass, or Redis trouble.
    public func read(_ redis: LoopRedis, userId: Int64, _ done: @escaping (Int64?) -> Void) {
        guard !bypassing else {
            done(nil)
            return
        }
        redis.send(["GET", Self.key(userId)]) { reply in done(Self.cents(reply)) }
    }

    /// A reader's fill after a miss (fire and forget: a refused or lost fill only costs a miss).
    public func fill(_ redis: LoopRedis, userId: Int64, cents: Int64, version: Int64) {
        guard !bypassing else { return }
        redis.send(Self.setCommand(userId, version: version, value: String(cents))) { _ in }
    }

    /// `<version>:<cents>` → cents; nil for a tombstone (`<version>:-`) or anything else.
    static func cents(_ reply: RedisReply?) -> Int64? {
        guard case .string(let bytes)? = reply, let sep = bytes.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        return Int64(String(decoding: bytes[(sep + 1)...], as: UTF8.self))
    }
}
