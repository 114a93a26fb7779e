import ServiceCore
import Synchronization

/// Which engine shard owns what. Each stock is assigned a shard once, at createStock, and the
/// number is stored on its `stocks` row; shard `k` of `count` owns the stocks whose stored shard
/// is `k` modulo `count`. So the owner is a pure function of the ledger and the running count:
/// changing `count` (all shards restarted together: each rebuilds its books from the ledger)
/// moves whole books, never splits one, and no stock is ever owned by two running shards.
/// `count` 1 is today's single engine: it owns everything and nothing is forwarded.
public final class ShardMap: Sendable {
    public let index: Int
    public let count: Int
    /// Every shard's endpoint, by shard index (the engine's own included).
    public let peers: [Endpoint]
    /// Stock id → owning shard (stocks never move while the shards run, so entries never go stale).
    private let stockOwners = Mutex<[Int64: Int]>([:])
    /// This process's position in its createStock round robin (starts at its own index).
    private let assigned: Atomic<Int>

    public init(index: Int = 0, count: Int = 1, peers: [Endpoint] = []) {
        self.count = max(1, count)
        self.index = min(max(0, index), self.count - 1)
        self.peers = peers
        assigned = Atomic(self.index)
    }

    /// DT_SHARD (this shard's index), DT_SHARDS (how many), DT_SHARD_PEERS (every shard's
    /// host:port in index order), as scripts/lib/services.sh sets them from topology.json.
    public convenience init(_ config: ServiceConfig) {
        self.init(
            index: config.int("DT_SHARD", default: 0), count: config.int("DT_SHARDS", default: 1),
            peers: config.endpoints("DT_SHARD_PEERS", default: ""))
    }

    public var isSharded: Bool { count > 1 }

    /// The owner of a stock whose row stores `stored`.
    public func owner(stored: Int64) -> Int { Int(stored % Int64(count)) }

    public func owns(stored: Int64) -> Bool { owner(stored: stored) == index }

    /// The shard number createStock stores for a new stock: round robin over the running shards,
    /// kept by each engine process (not derived from the stock id: ids come from one sequence
    /// shared with orders and wallet transactions, so their parity followed the traffic between
    /// two createStocks and piled stocks onto one shard).
    public func nextAssignment() -> Int64 {
        Int64(assigned.add(1, ordering: .relaxed).oldValue % count)
    }

    /// The shard owning `stockId`, or nil for an unknown stock.
    public func ownerOfStock(_ stockId: Int64, _ db: PGConnection) throws -> Int? {
        if let known = stockOwners.withLock({ $0[stockId] }) { return known }
        guard let stored = try db.query("SELECT shard FROM stocks WHERE id = $1", [stockId]).int64(0, 0) else {
            return nil
        }
        let owner = owner(stored: stored)
        stockOwners.withLock { $0[stockId] = owner }
        return owner
    }

    /// The shard owning the stock of order `stockTxId`, or nil when there is no such order. Read
    /// from the ledger: a client learns an order's id only from committed rows
    /// (getStockTransactions), so the row is always there when a cancel can name it.
    public func ownerOfOrder(_ stockTxId: Int64, _ db: PGConnection) throws -> Int? {
        let r = try db.query(
            "SELECT s.id, s.shard FROM stock_transactions t JOIN stocks s ON s.id = t.stock_id WHERE t.id = $1",
            [stockTxId])
        guard let stock = r.int64(0, 0), let stored = r.int64(0, 1) else { return nil }
        let owner = owner(stored: stored)
        stockOwners.withLock { $0[stock] = owner }
        return owner
    }
}
