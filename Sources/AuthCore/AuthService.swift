import Glibc
import Ledger
import ServiceCore

/// The authentication service: register, login (JWT), and an identity echo used by the security
/// tests. Settings (read by `serve`):
///   DT_PORT (8100), DT_WORKERS (cores × 4: hashing is CPU-bound, the rest waits on PostgreSQL),
///   DT_JWT_SECRET (required), DT_TOKEN_TTL_S (7200), DT_PBKDF2_ITERATIONS (PasswordHasher.defaultIterations),
///   DT_HASH_THREADS (cores − 1, at least 1: hashes at once), DT_ADMIN_PASSWORD (required),
///   DT_PG with DT_PG_PASSWORD (required), DT_REDIS_PASSWORD (required), DT_INTERNAL_KEY (required).
public enum AuthService {
    /// `auth --bench-hash`: PBKDF2 timing at the given costs (default: the configured one).
    public static func benchHash(_ counts: [Int], environment: [String: String]) {
        let iterations = Int(environment["DT_PBKDF2_ITERATIONS"] ?? "") ?? PasswordHasher.defaultIterations
        HashBench.run(counts.isEmpty ? [iterations] : counts)
    }

    /// Migrates the schema, makes sure the admin user exists, installs the routes and serves.
    public static func serve(environment base: [String: String]) -> Never {
        var environment = base
        if (environment["DT_WORKERS"] ?? "").isEmpty {
            environment["DT_WORKERS"] = String(max(1, ProcessEnvironment.activeProcessorCount) * 4)
        }
        let service = Service(Topology.auth, environment: environment)
        let config = service.config
        let secret = service.requireSecret("DT_JWT_SECRET", "signing tokens")
        let adminPassword = service.requireSecret("DT_ADMIN_PASSWORD", "the admin user")
        service.requireSecret("DT_PG_PASSWORD", "PostgreSQL")
        service.requireSecret("DT_REDIS_PASSWORD", "Redis (per-account login throttling)")
        // Hashing may use all cores but one (at least one), whatever the worker count.
        let hashSlots = ConcurrencyLimit(config.int("DT_HASH_THREADS", default: max(1, config.cores - 1)))
        let hasher = PasswordHasher(
            iterations: config.int("DT_PBKDF2_ITERATIONS", default: PasswordHasher.defaultIterations), slots: hashSlots)
        let handlers = AuthHandlers(
            hasher: hasher, jwt: JWT(secret: secret),
            tokenTTLSeconds: Int64(max(1, config.int("DT_TOKEN_TTL_S", default: 7200))), logger: service.logger)

        // Schema and admin user before serving; PostgreSQL may still be starting, so retry for a while.
        do {
            try PGConnection.whenReady(config.postgresConnInfo, logger: service.logger, seconds: 30) { db in
                try Migrator.apply(LedgerSchema.migrations, on: db)
                try AdminBootstrap.ensure(db, password: adminPassword, hasher: hasher, logger: service.logger)
            }
        } catch {
            service.logger.error("start-up failed", error: error)
            exit(1)
        }

        handlers.install(on: service.router)
        service.addHealthCheck("postgres") { ctx in (try? ctx.postgres().query("SELECT 1")) != nil }
        service.gauge("auth_hash_peak_concurrency") { hashSlots.peakConcurrency }
        service.logger.info(
            "auth ready",
            metadata: [
                "pbkdf2_iterations": .stringConvertible(hasher.iterations),
                "hash_threads": .stringConvertible(hashSlots.limit),
                "token_ttl_s": .stringConvertible(handlers.tokenTTLSeconds),
            ])
        service.runForever()
    }
}
