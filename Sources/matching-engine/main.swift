import Glibc
import PlatformCore
import ServiceCore
import StreamCore

// The order-book platform's engine: books in memory on one engine thread, journaled to
// PostgreSQL in group-committed batches; rebuilt from the ledger at start.
// Each order holds a worker until its batch commits; allow plenty of them by default.
let service = Service(Topology.matchingEngine, defaultWorkers: 48)
let config = service.config
service.requireSecret("DT_PG_PASSWORD", "PostgreSQL")
service.requireSecret("DT_REDIS_PASSWORD", "Redis")

do {
    try PGConnection.whenReady(config.postgresConnInfo, logger: service.logger) { db in
        try Migrator.apply(PlatformSchema.allMigrations, on: db)
    }
} catch {
    service.logger.error("migrations failed", error: error)
    exit(1)
}

// The engine's connection is named so the wallet-change trigger can tell its writes from others'.
let engineConnInfo = config.postgresConnInfo + " application_name=\(PlatformSchema.engineApplicationName)"
let engine = MatchingEngine(
    connInfo: engineConnInfo, redis: config.redis, logger: service.logger,
    maxBatch: config.int("DT_ENGINE_MAX_BATCH", default: 256), shard: ShardMap(config))
do {
    try engine.start()
} catch {
    service.logger.error("engine start failed", error: error)
    exit(1)
}
WalletInvalidator(
    connInfo: config.postgresConnInfo, redis: config.redis, cache: engine.walletCache, logger: service.logger
).start()
let ticketKey = Array(service.requireSecret("DT_INTERNAL_KEY", "stream tickets").utf8)
PlatformHTTP.register(
    on: service.router, engine: engine, allowReset: config.bool("DT_ALLOW_RESET", default: false),
    tickets: StreamTicket(key: ticketKey),
    shards: ShardForwarder(map: engine.shard, proof: config.internalProof))
service.addHealthCheck("engine") { _ in engine.isHealthy }
service.gauge("engine_queue_depth") { engine.queueDepth }
service.gauge("engine_batches_total") { engine.batchCount }
service.gauge("engine_batch_retries_total") { engine.retryCount }
service.runForever()
