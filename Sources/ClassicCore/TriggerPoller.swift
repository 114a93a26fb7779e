import Dispatch
import Glibc
import Ledger
import ServiceCore
import Synchronization

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
            Threads.start(name: "trigger-poll-\(i)") { [self] in pollThread() }
        }
        Threads.start(name: "trigger-coordinator") { [self] in coordinator() }
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
                logger.warning("trigger poll round failed", error: error)
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
            guard let w = queue.withLock({ $0.popLast() }) else {
                done.signal()
                continue
            }
            do {
                if db == nil || db?.isHealthy == false { db = try PGConnection(config.postgresConnInfo) }
                if redis == nil { redis = try? RedisConnection(config.redis) }
                if let db {
                    let fired = try engine.pollSymbol(w, db: db, redis: redis)
                    stats.withLock {
                        $0.polled += 1
                        $0.fired += fired
                    }
                    if fired > 0 {
                        logger.info(
                            "triggers fired",
                            metadata: ["symbol": .string(w.symbol), "count": .stringConvertible(fired)])
                    }
                }
            } catch {
                stats.withLock { $0.failures += 1 }
                logger.warning("trigger poll failed", error: error, metadata: ["symbol": .string(w.symbol)])
                if error is PGError { db = nil }
            }
            done.signal()
        }
    }
}
