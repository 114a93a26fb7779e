import Glibc
import Ledger
import ServiceCore

/// Start-up and background work shared by the classic executables (buy, sell, user-utilities,
/// trigger-worker): migrations, the engine from config, the expiry sweeper.
public enum ClassicRuntime {
    /// Applies the ledger's and the classic migrations, retrying while PostgreSQL starts.
    public static func migrate(_ config: ServiceConfig, logger: Logger, seconds: Double = 30) throws {
        try PGConnection.whenReady(config.postgresConnInfo, logger: logger, seconds: seconds) { db in
            try Migrator.apply(ClassicSchema.allMigrations, on: db)
        }
    }

    /// The engine as configured: DT_QUOTE_URL (quote-server host:port), DT_QUOTE_TIMEOUT_MS,
    /// DT_QUOTE_TTL_MS (≤ 60000), DT_SERVER_NAME (the log's `server`, default the service name),
    /// DT_CLASSIC_LANES / DT_CLASSIC_MAX_BATCH (the group commit, `CommitGroup`).
    public static func engine(_ config: ServiceConfig) -> ClassicEngine {
        let endpoint =
            Endpoint(config.string("DT_QUOTE_URL", default: "127.0.0.1:8500"))
            ?? Endpoint(host: "127.0.0.1", port: 8500)
        let source = HTTPQuoteSource(
            endpoint: endpoint, timeoutMillis: config.int("DT_QUOTE_TIMEOUT_MS", default: 5000),
            signer: config.internalProof)
        let clock = SystemClock()
        let cache = QuoteCache(
            source: source, clock: clock, ttlMillis: Int64(config.int("DT_QUOTE_TTL_MS", default: 60_000)),
            waitMillis: config.int("DT_QUOTE_TIMEOUT_MS", default: 5000) + 1000)
        // DT_CLASSIC_FOLD=0: BUY/SELL/COMMIT_*/CANCEL_* statement by statement instead of one
        // server-side function call each (for comparisons; same outcomes and log).
        // DT_CLASSIC_LANES commit lanes (0 = no batching: each command commits alone on its worker's
        // connection), DT_CLASSIC_MAX_BATCH commands per transaction at most.
        let lanes = config.int("DT_CLASSIC_LANES", default: 1)
        let committer =
            lanes > 0
            ? CommitGroup(
                connInfo: config.postgresConnInfo, lanes: lanes,
                maxBatch: config.int("DT_CLASSIC_MAX_BATCH", default: 64))
            : nil
        return ClassicEngine(
            clock: clock, quotes: cache, server: config.string("DT_SERVER_NAME", default: config.name),
            committer: committer, folded: config.int("DT_CLASSIC_FOLD", default: 1) != 0)
    }

    /// Migrations + engine + sweeper: what every classic service does before serving.
    public static func prepare(_ service: Service) -> ClassicEngine {
        service.requireSecret("DT_PG_PASSWORD", "PostgreSQL")
        service.requireSecret("DT_REDIS_PASSWORD", "Redis")
        do {
            try migrate(service.config, logger: service.logger)
        } catch {
            service.logger.error("migrations failed", error: error)
            exit(1)
        }
        let engine = engine(service.config)
        startSweeper(engine, config: service.config, logger: service.logger)
        service.addHealthCheck("postgres") { ctx in (try? ctx.postgres().query("SELECT 1").count) == 1 }
        if let group = engine.committer {
            // Mean batch size = commands / batches (scripts/bench-replay prints it).
            service.gauge("classic_commit_batches") { group.stats.batches }
            service.gauge("classic_commit_commands") { group.stats.commands }
            service.gauge("classic_commit_fallbacks") { group.stats.fallbacks }
        }
        return engine
    }

    /// Parking of QUOTE/BUY/SELL on a quote-cache miss (`QuoteFlights`): DT_CLASSIC_PARK (1; 0 =
    /// a miss waits on its worker, as before), DT_CLASSIC_MAX_PARKED commands waiting at most
    /// (4096), DT_QUOTE_FETCHERS threads calling the quote server at most (64).
    public static func flights(_ service: Service, engine: ClassicEngine) -> QuoteFlights? {
        let config = service.config
        guard config.int("DT_CLASSIC_PARK", default: 1) != 0 else { return nil }
        let flights = QuoteFlights(
            cache: engine.quotes, redis: config.redis, maxParked: config.int("DT_CLASSIC_MAX_PARKED", default: 4096),
            maxFetchers: config.int("DT_QUOTE_FETCHERS", default: 64))
        service.gauge("classic_quote_parked") { flights.parked }
        return flights
    }

    /// Releases expired pending BUY/SELLs every DT_SWEEP_MS (default 500 ms) on its own thread
    /// and connection. Several services sweeping at once is safe (DELETE … RETURNING decides).
    public static func startSweeper(_ engine: ClassicEngine, config: ServiceConfig, logger: Logger) {
        let interval = max(50, config.int("DT_SWEEP_MS", default: 500))
        let connInfo = config.postgresConnInfo
        Threads.start(name: "classic-sweeper") {
            var db: PGConnection?
            while true {
                do {
                    if db == nil || db?.isHealthy == false { db = try PGConnection(connInfo) }
                    if let db {
                        let n = try engine.sweepExpired(db: db)
                        if n > 0 { logger.debug("expired pending orders", metadata: ["count": .stringConvertible(n)]) }
                    }
                } catch {
                    logger.warning("sweeper failed", error: error)
                    db = nil
                }
                usleep(UInt32(interval) * 1000)
            }
        }
    }
}
