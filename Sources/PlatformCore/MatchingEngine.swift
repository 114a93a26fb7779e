import Glibc
import Ledger
import OrderBook
import ServiceCore
import Synchronization

/// One stock's book plus what the platform shows about it.
final class StockState {
    var book = OrderBook(expectedOrders: 64)
    /// Price of the latest fill (kept here, not only in the book, so it survives a rebuild).
    var lastTrade: Int64?
    let name: String
    init(name: String) { self.name = name }

    var currentPrice: Int64? { book.bestAsk?.price ?? lastTrade }
}

/// The matching engine: every book lives in memory and is owned by one engine thread, fed by a
/// queue. The thread takes whatever is queued (up to `maxBatch`), applies it in one PostgreSQL
/// transaction (group commit), and answers those clients only after COMMIT. Money decisions are
/// conditional updates inside that transaction; a book changes only after its order's decision
/// succeeded. If a batch fails as a whole, the books are rebuilt from the ledger and, when the
/// server definitely rolled back, each command is retried alone so one bad order cannot sink others.
public final class MatchingEngine: @unchecked Sendable {
    public let prices = PriceBoard()
    public let walletCache = WalletCache()
    public let depth = DepthBoard()
    let connInfo: String
    let redisTarget: RedisTarget
    let logger: Logger
    let maxBatch: Int
    /// The stocks this engine owns (all of them when there is one engine).
    public let shard: ShardMap

    private let queueLock = ThreadCondition()
    private var queue: [Ticket] = []
    private let healthy = Atomic<Bool>(false)
    private let batches = Atomic<Int>(0)
    private let retries = Atomic<Int>(0)

    // Engine-thread state.
    private var db: PGConnection?
    private var redis: RedisConnection?
    var stocks: [Int64: StockState] = [:]
    /// Resting order id → stock id (to find the book on cancel).
    var restingStock: [Int64: Int64] = [:]
    private var idPool: [Int64] = []
    private var idPos = 0
    private var needsRebuild = true
    var pricesDirty = false
    /// Accounts the last failed batch attempt had locked or meant to (for an ordered retry).
    private var lastAccountsTouched: Set<Int64> = []
    /// Sends committed events to Redis off the engine thread.
    private let publisher: EventPublisher
    /// The last price sent as a `price` event, per stock (engine thread).
    private var streamedPrice: [Int64: Int64] = [:]

    public init(
        connInfo: String, redis: RedisTarget, logger: Logger, maxBatch: Int = 256, shard: ShardMap = ShardMap()
    ) {
        self.shard = shard
        self.connInfo = connInfo
        self.redisTarget = redis
        self.logger = logger
        self.maxBatch = max(1, maxBatch)
        publisher = EventPublisher(target: redis, logger: logger, prices: prices)
    }

    /// Rebuilds the books from the ledger (retrying while PostgreSQL comes up) and starts the thread.
    public func start(waitSeconds: Double = 60) throws {
        try PGConnection.retryUntilReady(logger: logger, seconds: waitSeconds, "engine rebuild failed; retrying") {
            do { try rebuild() } catch {
                db = nil
                throw error
            }
        }
        publisher.start()
        Threads.start(name: "engine", stackSize: 4 << 20) { [self] in runLoop() }
    }

    /// True while the last batch (or rebuild) reached the database.
    public var isHealthy: Bool { healthy.load(ordering: .relaxed) }
    public var batchCount: Int { batches.load(ordering: .relaxed) }
    /// Whole batches run again after PostgreSQL aborted them (deadlock 40P01 / serialization 40001).
    public var retryCount: Int { retries.load(ordering: .relaxed) }
    public var queueDepth: Int {
        queueLock.lock()
        defer { queueLock.unlock() }
        return queue.count
    }

    // MARK: submitting (worker threads)

    func submit(_ command: EngineCommand) -> EngineOutcome {
        let ticket = Ticket(command)
        queueLock.lock()
        queue.append(ticket)
        queueLock.signal()
        queueLock.unlock()
        return ticket.wait()
    }

    public func placeOrder(userId: Int64, _ order: PlaceOrderRequest, key: IdempotencyTicket? = nil) -> EngineOutcome {
        submit(.place(userId: userId, order: order, key: key))
    }

    public func cancel(userId: Int64, stockTxId: Int64, key: IdempotencyTicket? = nil) -> EngineOutcome {
        submit(.cancel(userId: userId, stockTxId: stockTxId, key: key))
    }

    public func deposit(userId: Int64, cents: Int64, key: IdempotencyTicket? = nil) -> EngineOutcome {
        submit(.deposit(userId: userId, cents: cents, key: key))
    }

    /// Forgets all in-memory state and rebuilds it from the ledger; clears the wallet cache.
    public func reset() -> EngineOutcome { submit(.reset) }

    /// The resting orders of all books, read on the engine thread between batches.
    public func books() -> JSON {
        let ticket = Ticket(.inspect)
        queueLock.lock()
        queue.append(ticket)
        queueLock.signal()
        queueLock.unlock()
        _ = ticket.wait()
        return ticket.payload ?? .null
    }

    // MARK: the engine thread

    private func runLoop() {
        while true {
            queueLock.lock()
            while queue.isEmpty { queueLock.wait() }
            var take = min(queue.count, maxBatch)
            // A reset or an inspection runs alone, between batches.
            if queue[0].command.runsAlone {
                take = 1
            } else if let r = queue.prefix(take).firstIndex(where: { $0.command.runsAlone }) {
                take = r
            }
            let batch = Array(queue.prefix(take))
            queue.removeFirst(take)
            queueLock.unlock()
            if batch.count == 1, case .reset = batch[0].command {
                batch[0].finish(performReset())
            } else if batch.count == 1, case .inspect = batch[0].command {
                batch[0].payload = inspectBooks()
                batch[0].finish(.ok)
            } else {
                process(batch, mayIsolate: true)
            }
            batches.add(1, ordering: .relaxed)
        }
    }

    private func performReset() -> EngineOutcome {
        needsRebuild = true
        do {
            try rebuild()
            walletCache.clearAll(redisConnection())
            return .ok
        } catch {
            return .failed(status: 503, message: "reset failed: \(error)")
        }
    }

    private func process(_ batch: [Ticket], mayIsolate: Bool) {
        if needsRebuild {
            do { try rebuild() } catch {
                logger.error("engine cannot rebuild its books", error: error)
                for t in batch {
                    t.finish(.failed(status: 503, message: "order engine unavailable: ledger unreachable"))
                }
                return
            }
        }
        var attempt = 0
        var preLock: Set<Int64> = []
        while true {
            attempt += 1
            do {
                let (outcomes, journal) = try runTransaction(batch, preLock: preLock)
                healthy.store(true, ordering: .relaxed)
                walletCache.writeThrough(redisConnection(), journal.cashAfter)
                if pricesDirty { publishPrices() }
                publishEvents(journal)
                for (t, o) in zip(batch, outcomes) { t.finish(o) }
                return
            } catch {
                // Rolled back (or unknown): the books may hold changes the ledger does not.
                needsRebuild = true
                let serverSaidNo = (error as? PGError).map { !$0.sqlState.isEmpty } ?? (error is EngineInvariantError)
                logger.warning("engine batch failed", error: error, metadata: ["size": .stringConvertible(batch.count)])
                if !serverSaidNo { healthy.store(false, ordering: .relaxed) }
                do { try rebuild() } catch {
                    // The server's words (host, port, libpq's text) stay in the log.
                    logger.warning("books not rebuilt", error: error)
                    for t in batch {
                        t.finish(.failed(status: 503, message: "order engine unavailable: ledger unreachable"))
                    }
                    return
                }
                // A deadlock or serialization failure rolled everything back and says nothing
                // about the orders. Engine shards lock a user's account (shared by all of them)
                // in the order their commands come, so two shards can wait on each other. Run the
                // same batch again on the rebuilt books, first locking every account the failed
                // attempt touched in ascending id (one global order): the same batch on the same
                // books touches the same accounts, so the rerun takes no account lock out of
                // order (unless a changed balance sends it down another path; then it may abort
                // again, up to 16 attempts). Nobody has been answered yet. The rerun can still be
                // the deadlock's victim: waiting in order on a row another shard's unordered first
                // attempt holds, it starts waiting first, so its deadlock_timeout fires first and
                // PostgreSQL aborts it; under a steady stream of crossing orders that can repeat.
                // A short random pause lets the other shard's batch commit first. Up to 16 attempts:
                // 8 were seen to run out under 8 clients crossing orders between two shards.
                if serverSaidNo, let pg = error as? PGError, pg.isRetryable, attempt < 16 {
                    retries.add(1, ordering: .relaxed)
                    preLock.formUnion(lastAccountsTouched)
                    usleep(UInt32.random(in: 1_000...5_000) * UInt32(min(attempt, 8)))
                    continue
                }
                if serverSaidNo && batch.count > 1 && mayIsolate {
                    for t in batch { process([t], mayIsolate: false) }
                    return
                }
                // Rolled back for sure: not recorded. Otherwise (the connection broke, maybe during
                // COMMIT) nobody knows; say so, and how to find out.
                // A server shutting down or a read-only node rolled back too, but that is an outage (503).
                let pg = error as? PGError
                let outage = pg?.isUnavailable ?? false
                // A user id the ledger lacks (a token outliving its database) fails only its own
                // command (the batch was split above). The server's words stay in the log.
                let outcome: EngineOutcome =
                    pg?.isForeignKeyViolation == true
                    ? .failed(status: 404, message: HTTPResponse.unknownUser)
                    : serverSaidNo
                        ? .failed(
                            status: outage ? 503 : 500,
                            message: outage ? "not recorded: database unavailable" : "not recorded: internal error")
                        : .failed(
                            status: 503,
                            message: "outcome unknown (the ledger connection was lost): retry with the same "
                                + "Idempotency-Key, or check getStockTransactions / getWalletBalance before sending it again"
                        )
                for t in batch { t.finish(outcome) }
                return
            }
        }
    }

    /// Applies the batch in one transaction. Rejections (400/404) are per command; anything else
    /// thrown aborts the whole batch.
    private func runTransaction(_ batch: [Ticket], preLock: Set<Int64> = []) throws -> ([EngineOutcome], BatchJournal) {
        let db = try connection()
        try db.execute("BEGIN")
        let journal = BatchJournal(db: db)
        lastAccountsTouched = []
        var outcomes: [EngineOutcome] = []
        outcomes.reserveCapacity(batch.count)
        do {
            // Every account the batch can touch, locked first in ascending user id (the classic
            // path's order: MatchingEngine+LockOrder). One account alone cannot close a cycle.
            let lockFirst = preLock.union(accountsAhead(batch))
            if lockFirst.count > 1 { try LedgerTx(db).lockAccounts(ids: lockFirst) }
            for t in batch {
                let outcome: EngineOutcome
                do {
                    try apply(t.command, journal)
                    outcome = .ok
                } catch let r as Rejection {
                    outcome = .failed(status: r.status, message: r.message)
                }
                // Stored with the command's effect, in the same transaction.
                try t.command.key?.record(db, outcome.response)
                outcomes.append(outcome)
            }
            try journal.write()
            try db.execute("COMMIT")
        } catch {
            lastAccountsTouched = journal.accountsTouched
            try? db.execute("ROLLBACK")
            if !db.isHealthy { self.db = nil }
            throw error
        }
        return (outcomes, journal)
    }

    private func apply(_ command: EngineCommand, _ j: BatchJournal) throws {
        switch command {
        case .place(let userId, let order, _): try place(userId: userId, order, j)
        case .cancel(let userId, let txId, _): try cancel(userId: userId, stockTxId: txId, j)
        case .amend(let userId, let order, _): try amend(userId: userId, order, j)
        case .deposit(let userId, let cents, _): try deposit(userId: userId, cents: cents, j)
        case .reset, .inspect: throw Rejection(400, "runs alone")
        }
    }

    // MARK: connections, ids, prices

    func connection() throws -> PGConnection {
        if let c = db, c.isHealthy { return c }
        db = nil
        let c = try PGConnection(connInfo)
        // A stuck statement must end, so waiting clients get an answer.
        try c.execute("SET statement_timeout = '30s'")
        // Ids drawn on the old connection may not have reached this server (a promoted standby
        // only has what was committed and replicated): draw a fresh block from it.
        idPool = []
        idPos = 0
        db = c
        return c
    }

    private func redisConnection() -> RedisConnection? {
        if let r = redis { return r }
        redis = try? RedisConnection(redisTarget, timeoutMillis: 500)
        return redis
    }

    /// Next id for a stock or wallet transaction, drawn from `platform_ids` in blocks.
    func nextId(_ db: PGConnection) throws -> Int64 {
        if idPos == idPool.count {
            let r = try db.query("SELECT nextval('platform_ids') FROM generate_series(1, 1000)")
            idPool = (0..<r.count).compactMap { r.int64($0, 0) }.sorted()
            idPos = 0
            guard !idPool.isEmpty else { throw EngineInvariantError(description: "platform_ids gave no ids") }
        }
        defer { idPos += 1 }
        return idPool[idPos]
    }

    /// Queues the batch's committed facts for the event stream (sent by the publisher's thread:
    /// Redis trouble never holds up a commit, and only costs events).
    private func publishEvents(_ j: BatchJournal) {
        for id in j.events.touchedStocks { if let st = stocks[id] { depth.publish(id, st.book) } }
        // A `price` event only when a stock's price changed: every client gets every public event,
        // and most batches (a resting bid, a cancel) leave the price where it was.
        let prices = j.events.touchedStocks.sorted().compactMap { id -> (id: Int64, cents: Int64, name: String)? in
            guard let st = stocks[id], let cents = st.currentPrice, streamedPrice[id] != cents else { return nil }
            streamedPrice[id] = cents
            return (id, cents, st.name)
        }
        publisher.publish(MarketEvents.commands(j.events, orders: j.orderChanges, prices: prices))
    }

    func publishPrices() {
        pricesDirty = false
        prices.publish(
            stocks.compactMap { id, st in
                st.currentPrice.map { PriceBoard.Entry(stockId: id, name: st.name, priceCents: $0) }
            })
    }

    // MARK: rebuild

    /// Replaces every book of this shard's stocks with the ledger's resting orders (in seq order)
    /// and last fill prices, read in one consistent snapshot.
    func rebuild() throws {
        let db = try connection()
        var fresh: [Int64: StockState] = [:]
        var resting: [Int64: Int64] = [:]
        try db.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        do {
            let open = try db.query(
                """
                SELECT t.id, t.user_id, t.stock_id, t.is_buy, t.price_cents, t.remaining, t.seq, s.name
                FROM stock_transactions t JOIN stocks s ON s.id = t.stock_id
                WHERE t.parent_id IS NULL AND t.status IN ('IN_PROGRESS', 'PARTIALLY_COMPLETE') AND t.remaining > 0
                  AND s.shard % $1 = $2
                ORDER BY t.seq
                """, [Int64(shard.count), Int64(shard.index)])
            for row in 0..<open.count {
                guard let id = open.int64(row, 0), let owner = open.int64(row, 1), let stock = open.int64(row, 2),
                    let isBuy = open.bool(row, 3), let price = open.int64(row, 4), let remaining = open.int64(row, 5),
                    let seq = open.int64(row, 6), let name = open.string(row, 7)
                else {
                    throw EngineInvariantError(description: "unreadable resting order row \(row)")
                }
                let st = fresh[stock] ?? StockState(name: name)
                fresh[stock] = st
                do {
                    try st.book.restore(
                        RestingOrder(
                            id: id, owner: owner, side: isBuy ? .buy : .sell, price: price,
                            remaining: remaining, sequence: UInt64(seq)))
                } catch {
                    throw EngineInvariantError(description: "cannot restore order \(id): \(error)")
                }
                resting[id] = stock
            }
            let last = try db.query(
                """
                SELECT DISTINCT ON (t.stock_id) t.stock_id, t.price_cents, s.name
                FROM stock_transactions t JOIN stocks s ON s.id = t.stock_id
                WHERE t.parent_id IS NOT NULL AND s.shard % $1 = $2
                ORDER BY t.stock_id, t.seq DESC
                """, [Int64(shard.count), Int64(shard.index)])
            for row in 0..<last.count {
                guard let stock = last.int64(row, 0), let price = last.int64(row, 1), let name = last.string(row, 2)
                else { continue }
                let st = fresh[stock] ?? StockState(name: name)
                st.lastTrade = price
                fresh[stock] = st
            }
            try db.execute("COMMIT")
        } catch {
            try? db.execute("ROLLBACK")
            if !db.isHealthy { self.db = nil }
            throw error
        }
        stocks = fresh
        restingStock = resting
        depth.clear()
        for (id, st) in fresh { depth.publish(id, st.book) }
        needsRebuild = false
        healthy.store(true, ordering: .relaxed)
        publishPrices()
        logger.info(
            "books rebuilt from the ledger",
            metadata: ["stocks": .stringConvertible(fresh.count), "resting": .stringConvertible(resting.count)])
    }

    /// Every resting order of every book (engine thread): lets tests compare the books with the ledger.
    func inspectBooks() -> JSON {
        var orders: [JSON] = []
        for (stockId, st) in stocks.sorted(by: { $0.key < $1.key }) {
            for side in [OrderSide.buy, .sell] {
                for o in st.book.orders(side) {
                    orders.append(
                        .object([
                            ("stock_tx_id", .string(String(o.id))), ("stock_id", .string(String(stockId))),
                            ("user_id", .string(String(o.owner))), ("is_buy", .bool(side == .buy)),
                            ("price_cents", .int(o.price)), ("remaining", .int(o.remaining)),
                        ]))
                }
            }
        }
        return .object([("orders", .array(orders))])
    }
}
