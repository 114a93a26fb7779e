import Foundation
import ServiceCore
import Synchronization

/// Start-up and background work shared by the classic executables (buy, sell, user-utilities,
/// trigger-worker): migrations, the engine from config, the expiry sweeper.
public enum ClassicRuntime {
    /// Applies the ledger's and the classic migrations, retrying while PostgreSQL starts.
    public static func migrate(_ config: ServiceConfig, logger: Logger, attempts: Int = 60) throws {
        var last: Error?
        for _ in 0..<attempts {
            do {
                let db = try PGConnection(config.postgresConnInfo)
                try Migrator.apply(ClassicSchema.allMigrations, on: db)
                return
            } catch {
                last = error
                logger.warn("migrations not applied yet", [("error", .string("\(error)"))])
                usleep(500_000)
            }
        }
        throw last ?? LedgerInvariantError("migrations failed")
    }

    /// The engine as configured: DT_QUOTE_URL (quote-server host:port), DT_QUOTE_TIMEOUT_MS,
    /// DT_QUOTE_TTL_MS (≤ 60000), DT_SERVER_NAME (the log's `server`, default the service name).
    public static func engine(_ config: ServiceConfig) -> ClassicEngine {
        let endpoint = Endpoint(config.string("DT_QUOTE_URL", default: "127.0.0.1:8500")) ?? Endpoint(host: "127.0.0.1", port: 8500)
        let source = HTTPQuoteSource(endpoint: endpoint, timeoutMillis: config.int("DT_QUOTE_TIMEOUT_MS", default: 5000))
        let clock = SystemClock()
        let cache = QuoteCache(source: source, clock: clock, ttlMillis: Int64(config.int("DT_QUOTE_TTL_MS", default: 60_000)),
                               waitMillis: config.int("DT_QUOTE_TIMEOUT_MS", default: 5000) + 1000)
        return ClassicEngine(clock: clock, quotes: cache, server: config.string("DT_SERVER_NAME", default: config.name))
    }

    /// Migrations + engine + sweeper: what every classic service does before serving.
    public static func prepare(_ service: Service) -> ClassicEngine {
        do {
            try migrate(service.config, logger: service.logger)
        } catch {
            service.logger.error("migrations failed", [("error", .string("\(error)"))])
            exit(1)
        }
        let engine = engine(service.config)
        startSweeper(engine, config: service.config, logger: service.logger)
        service.addHealthCheck("postgres") { ctx in (try? ctx.postgres().query("SELECT 1").count) == 1 }
        return engine
    }

    /// Releases expired pending BUY/SELLs every DT_SWEEP_MS (default 500 ms) on its own thread
    /// and connection. Several services sweeping at once is safe (DELETE … RETURNING decides).
    public static func startSweeper(_ engine: ClassicEngine, config: ServiceConfig, logger: Logger) {
        let interval = max(50, config.int("DT_SWEEP_MS", default: 500))
        let connInfo = config.postgresConnInfo
        let t = Thread {
            var db: PGConnection?
            while true {
                do {
                    if db == nil || db?.isHealthy == false { db = try PGConnection(connInfo) }
                    if let db {
                        let n = try engine.sweepExpired(db: db)
                        if n > 0 { logger.debug("expired pending orders", [("count", .int(n))]) }
                    }
                } catch {
                    logger.warn("sweeper failed", [("error", .string("\(error)"))])
                    db = nil
                }
                usleep(UInt32(interval) * 1000)
            }
        }
        t.name = "classic-sweeper"
        t.start()
    }
}

/// The trigger worker's loop: every `intervalMillis`, every symbol with an armed trigger is
/// polled through the shared quote cache by `threads` threads (a poll may cost a ~0.5 s hit,
/// so symbols are polled in parallel), and its triggers are checked against the price.
public final class TriggerPoller: Sendable {
    let engine: ClassicEngine
    let config: ServiceConfig
    let logger: Logger
    let intervalMillis: Int
    let threads: Int
    private let queue = Mutex<[ClassicEngine.WatchedSymbol]>([])
    private let work = DispatchSemaphore(value: 0)
    private let done = DispatchSemaphore(value: 0)
    private let stats = Mutex<(rounds: Int, polled: Int, fired: Int, failures: Int)>((0, 0, 0, 0))

    public init(engine: ClassicEngine, config: ServiceConfig, logger: Logger) {
        self.engine = engine
        self.config = config
        self.logger = logger
        intervalMillis = max(10, config.int("DT_TRIGGER_POLL_MS", default: 60_000))
        threads = max(1, config.int("DT_TRIGGER_THREADS", default: 8))
    }

    public var snapshot: (rounds: Int, polled: Int, fired: Int, failures: Int) { stats.withLock { $0 } }

    public func start() {
        for i in 0..<threads {
            let t = Thread { [self] in pollThread() }
            t.name = "trigger-poll-\(i)"
            t.start()
        }
        let t = Thread { [self] in coordinator() }
        t.name = "trigger-coordinator"
        t.start()
    }

    private func coordinator() {
        var db: PGConnection?
        while true {
            let started = Clock.monotonicNanos()
            do {
                if db == nil || db?.isHealthy == false { db = try PGConnection(config.postgresConnInfo) }
                if let db {
                    let watched = try engine.watchedSymbols(db: db)
                    queue.withLock { $0 = watched }
                    for _ in 0..<watched.count { work.signal() }
                    for _ in 0..<watched.count { done.wait() }
                    stats.withLock { $0.rounds += 1 }
                }
            } catch {
                logger.warn("trigger poll round failed", [("error", .string("\(error)"))])
                db = nil
            }
            let elapsedMs = Int((Clock.monotonicNanos() - started) / 1_000_000)
            if elapsedMs < intervalMillis { usleep(UInt32(intervalMillis - elapsedMs) * 1000) }
        }
    }

    private func pollThread() {
        var db: PGConnection?
        var redis: RedisConnection?
        while true {
            work.wait()
            guard let w = queue.withLock({ $0.popLast() }) else { done.signal(); continue }
            do {
                if db == nil || db?.isHealthy == false { db = try PGConnection(config.postgresConnInfo) }
                if redis == nil { redis = try? RedisConnection(config.redis) }
                if let db {
                    let fired = try engine.pollSymbol(w, db: db, redis: redis)
                    stats.withLock { $0.polled += 1; $0.fired += fired }
                    if fired > 0 { logger.info("triggers fired", [("symbol", .string(w.symbol)), ("count", .int(fired))]) }
                }
            } catch {
                stats.withLock { $0.failures += 1 }
                logger.warn("trigger poll failed", [("symbol", .string(w.symbol)), ("error", .string("\(error)"))])
                if error is PGError { db = nil }
            }
            done.signal()
        }
    }
}
