/// A numbered schema change. Versions only grow; applied ones are recorded in `schema_migrations`.
public struct Migration: Sendable {
    public let version: Int
    public let name: String
    public let sql: String
    public init(_ version: Int, _ name: String, _ sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }
}

public enum Migrator {
    /// Applies every migration not yet recorded, each in its own transaction, under an advisory
    /// lock so services starting together do not race. Safe to call at every start-up.
    public static func apply(_ migrations: [Migration], on db: PGConnection) throws {
        try db.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INT PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        try db.execute("SELECT pg_advisory_lock(4680001)")
        defer { try? db.execute("SELECT pg_advisory_unlock(4680001)") }
        let done = try db.query("SELECT version FROM schema_migrations")
        let applied = Set((0..<done.count).compactMap { done.int(0 + $0, 0) })
        for m in migrations.sorted(by: { $0.version < $1.version }) where !applied.contains(m.version) {
            try db.transaction { tx in
                try tx.execute(m.sql)
                try tx.query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [m.version, m.name])
            }
        }
    }
}

extension WorkerContext {
    /// This thread's PostgreSQL connection, reconnecting when the previous one broke (a restart,
    /// or a failover: a multi-host DT_PG then reaches the promoted standby). After a failed
    /// connect, calls fail fast for a short, growing pause (25 ms doubling up to 400 ms) rather
    /// than each request waiting out its own connect to a server that is down.
    public func postgres() throws -> PGConnection {
        let holder = local(PGHolder.self) { PGHolder() }
        if let c = holder.connection, c.isHealthy { return c }
        holder.connection = nil
        let now = Clock.monotonicNanos()
        if now < holder.retryAt {
            throw PGError(sqlState: "", message: "reconnecting: \(holder.lastError)")
        }
        do {
            let c = try PGConnection(config.postgresConnInfo)
            holder.connection = c
            holder.failures = 0
            return c
        } catch {
            holder.failures = min(holder.failures + 1, 5)
            holder.retryAt = now + (25_000_000 << UInt64(holder.failures - 1))
            holder.lastError = "\(error)"
            throw error
        }
    }
}

final class PGHolder: ReleasedWhenIdle {
    var connection: PGConnection?
    var failures = 0
    var retryAt: UInt64 = 0
    var lastError = ""
}
