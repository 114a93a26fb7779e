import ServiceCore

/// Keeps the Redis wallet cache honest when someone other than the engine moves cash (classic
/// commands, trigger firings, expiry sweeps): PostgreSQL NOTIFYs `wallet_changed` at their
/// commit (trigger from migrations 201/203) and this thread writes a tombstone at that version. If the
/// listening connection breaks, notifications may have been missed, so the cache is bypassed
/// until every entry written before then has expired.
public final class WalletInvalidator: Sendable {
    private let connInfo: String
    private let redis: RedisTarget
    private let cache: WalletCache
    private let logger: Logger

    public init(connInfo: String, redis: RedisTarget, cache: WalletCache, logger: Logger) {
        self.connInfo = connInfo
        self.redis = redis
        self.cache = cache
        self.logger = logger
    }

    public func start() {
        Threads.start(name: "wallet-invalidator") { [self] in run() }
    }

    private func run() {
        var redisConnection: RedisConnection?
        while true {
            do {
                let db = try PGConnection(connInfo)
                try db.listen("wallet_changed")
                while true {
                    let notes = try db.waitForNotifications(timeoutMillis: 1000)
                    guard !notes.isEmpty else { continue }
                    // Payload `<user_id>:<version>`; the newest version of each account wins.
                    var versions: [Int64: Int64] = [:]
                    for note in notes {
                        let parts = note.payload.split(separator: ":")
                        guard parts.count == 2, let user = Int64(parts[0]), let version = Int64(parts[1]) else {
                            continue
                        }
                        versions[user] = max(versions[user] ?? version, version)
                    }
                    if redisConnection == nil { redisConnection = try? RedisConnection(redis) }
                    cache.tombstone(redisConnection, versions)
                    if cache.bypassing { redisConnection = nil }
                }
            } catch {
                cache.markUnreliable()
                logger.warning("wallet invalidator reconnecting", error: error)
                Threads.sleep(milliseconds: 500)
            }
        }
    }
}
