import Ledger
import ServiceCore

/// Everything one engine batch writes, gathered in memory and written with a handful of bulk
/// statements just before COMMIT: new stock/wallet transactions, status changes of resting
/// parents, and cash/share deltas summed per account and per holding. Only the per-order
/// decisions (conditional debits) hit the database while the batch runs.
///
/// Before a conditional check reads an account or holding, its pending delta is written first
/// (`flushAccount` / `flushHolding`), so later orders in a batch see earlier orders' effects exactly
/// as if each had committed on its own.
final class BatchJournal {
    struct TxRow {
        var id: Int64
        var userId: Int64
        var stockId: Int64
        var parentId: Int64?
        var walletTxId: Int64?
        var status: OrderStatus
        var isBuy: Bool
        var type: OrderType
        var priceCents: Int64
        var quantity: Int64
        var remaining: Int64
        var millis: Int64
        /// A parent's fills so far, in cents (`filled_cents`): what its price averages once done.
        var filledCents: Int64 = 0
    }

    struct WalletRow {
        var id: Int64
        var userId: Int64
        var stockTxId: Int64
        var isDebit: Bool
        var cents: Int64
        var millis: Int64
    }

    struct HoldingKey: Hashable {
        var userId: Int64
        var stockId: Int64
    }

    let db: PGConnection
    private(set) var txRows: [TxRow] = []
    private var txIndex: [Int64: Int] = [:]
    private(set) var walletRows: [WalletRow] = []
    /// Resting parents written by earlier batches whose remaining/status changed.
    private var parentUpdates: [Int64: (remaining: Int64, status: OrderStatus, owner: Int64, filledCents: Int64)] = [:]
    /// What this batch tells the event streams once it has committed.
    var events = BatchEvents()
    private var accountDeltas: [Int64: Delta] = [:]
    private var holdingDeltas: [HoldingKey: Delta] = [:]
    /// Set when a delta sum overflowed: the bounds make that impossible, so `write` refuses.
    private var overflowed = false
    private var flows: [LedgerFlow] = []
    /// Orders amended in this batch (BatchJournal+Amend).
    var amends: [Int64: Amend] = [:]
    /// Free cash of every account this batch touched, as of its last write (for the wallet cache).
    private(set) var cashAfter: [Int64: Cash] = [:]
    /// Every account whose row this batch locks or will lock (a retry after a deadlock locks
    /// them all first, in ascending id: MatchingEngine.process).
    private(set) var accountsTouched: Set<Int64> = []

    /// Free cash of an account and the version of the row that holds it.
    struct Cash {
        var cents: Int64
        var version: Int64
    }

    init(db: PGConnection) { self.db = db }

    // MARK: rows

    func addTransaction(_ row: TxRow) {
        events.touchedStocks.insert(row.stockId)
        txIndex[row.id] = txRows.count
        txRows.append(row)
    }

    func addWallet(_ row: WalletRow) { walletRows.append(row) }

    /// New remaining/status of `owner`'s parent order, whether it was written in this batch or
    /// before. `filledCents`: the notional of the fills that brought it here. A parent shows its
    /// limit while any of it can still trade; once COMPLETED, the price it traded at: the
    /// volume-weighted average of all its fills (taker fills at placement or amend, maker fills
    /// later), in whole currency units, as for one that filled at once.
    func setOrderState(id: Int64, remaining: Int64, status: OrderStatus, owner: Int64, filledCents: Int64 = 0) {
        if let i = txIndex[id] {
            txRows[i].remaining = remaining
            txRows[i].status = status
            txRows[i].filledCents += filledCents
            if status == .completed {
                txRows[i].priceCents = Self.averagePrice(
                    txRows[i].filledCents, quantity: pendingQuantity(id) ?? txRows[i].quantity)
            }
        } else {
            let earlier = parentUpdates[id]?.filledCents ?? 0
            parentUpdates[id] = (remaining, status, owner, earlier + filledCents)
        }
    }

    /// `cents` over `quantity` shares, rounded to whole currency units (the API's prices). The
    /// same formula is in the parents' UPDATE below.
    static func averagePrice(_ cents: Int64, quantity: Int64) -> Int64 {
        quantity > 0 ? (cents + quantity * 50) / (quantity * 100) * 100 : 0
    }

    /// The status this batch has given an order written before it, not yet in the ledger (a
    /// cancel or amend after a fill in the same batch reads the row as it was).
    func pendingStatus(of id: Int64) -> OrderStatus? { parentUpdates[id]?.status }

    /// Every parent order this batch created or changed, as it leaves them.
    var orderChanges: [BatchEvents.OrderChange] {
        txRows.filter { $0.parentId == nil }.map {
            .init(owner: $0.userId, id: $0.id, status: $0.status, remaining: $0.remaining)
        }
            + parentUpdates.map {
                .init(owner: $0.value.owner, id: $0.key, status: $0.value.status, remaining: $0.value.remaining)
            }
    }

    func addFlow(_ flow: LedgerFlow) { flows.append(flow) }

    /// Notes the account's free cash after a ledger write.
    func noteCash(_ row: LedgerTx.CashRow) {
        accountsTouched.insert(row.userId)
        cashAfter[row.userId] = Cash(cents: row.cents, version: row.version)
    }

    // MARK: deltas

    /// Changes to one row's three columns: free, reserved and incoming (headroom promised to
    /// resting orders: proceeds of sells in cents, shares of buys).
    struct Delta {
        var free: Int64 = 0
        var reserved: Int64 = 0
        var incoming: Int64 = 0

        var isZero: Bool { free == 0 && reserved == 0 && incoming == 0 }
        var onlyGains: Bool { free >= 0 && reserved >= 0 && incoming >= 0 }

        /// Checked sum; false on overflow.
        mutating func add(_ o: Delta) -> Bool {
            let (f, o1) = free.addingReportingOverflow(o.free)
            let (r, o2) = reserved.addingReportingOverflow(o.reserved)
            let (i, o3) = incoming.addingReportingOverflow(o.incoming)
            guard !o1 && !o2 && !o3 else { return false }
            (free, reserved, incoming) = (f, r, i)
            return true
        }
    }

    func addCash(_ userId: Int64, cash: Int64 = 0, reserved: Int64 = 0, incoming: Int64 = 0) {
        let delta = Delta(free: cash, reserved: reserved, incoming: incoming)
        guard !delta.isZero else { return }
        accountsTouched.insert(userId)
        var d = accountDeltas[userId] ?? Delta()
        if !d.add(delta) { overflowed = true }
        accountDeltas[userId] = d
    }

    func addShares(_ userId: Int64, stockId: Int64, quantity: Int64 = 0, reserved: Int64 = 0, incoming: Int64 = 0) {
        let delta = Delta(free: quantity, reserved: reserved, incoming: incoming)
        guard !delta.isZero else { return }
        let key = HoldingKey(userId: userId, stockId: stockId)
        var d = holdingDeltas[key] ?? Delta()
        if !d.add(delta) { overflowed = true }
        holdingDeltas[key] = d
    }

    /// Writes the user's pending account delta now (before a conditional check reads the row).
    func flushAccount(_ userId: Int64) throws {
        // Every conditional check of an account's row flushes it first: the row lock is next.
        accountsTouched.insert(userId)
        guard let d = accountDeltas.removeValue(forKey: userId) else { return }
        try writeAccounts([(userId, d)])
    }

    func flushHolding(_ userId: Int64, stockId: Int64) throws {
        let key = HoldingKey(userId: userId, stockId: stockId)
        guard let d = holdingDeltas.removeValue(forKey: key) else { return }
        try writeHoldings([(key, d)])
    }

    // MARK: writing

    /// Writes everything gathered; called once, inside the batch transaction, before COMMIT.
    func write() throws {
        guard !overflowed else { throw EngineInvariantError(description: "a balance delta overflowed Int64") }
        if !txRows.isEmpty {
            try db.query(
                """
                INSERT INTO stock_transactions (id, user_id, stock_id, parent_id, wallet_tx_id, status, is_buy,
                                                order_type, price_cents, quantity, remaining, created_at, seq,
                                                filled_cents)
                SELECT id, u, s, p, w, st, b, ot, pr, q, r, to_timestamp(ms / 1000.0), id, f
                FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::text[],
                            $7::bool[], $8::text[], $9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[],
                            $13::bigint[])
                     AS t(id, u, s, p, w, st, b, ot, pr, q, r, ms, f)
                ORDER BY id
                """,
                [
                    SQLArray.ints(txRows.map(\.id)), SQLArray.ints(txRows.map(\.userId)),
                    SQLArray.ints(txRows.map(\.stockId)), SQLArray.optionalInts(txRows.map(\.parentId)),
                    SQLArray.optionalInts(txRows.map(\.walletTxId)), SQLArray.words(txRows.map(\.status.rawValue)),
                    SQLArray.bools(txRows.map(\.isBuy)), SQLArray.words(txRows.map(\.type.rawValue)),
                    SQLArray.ints(txRows.map(\.priceCents)), SQLArray.ints(txRows.map(\.quantity)),
                    SQLArray.ints(txRows.map(\.remaining)), SQLArray.ints(txRows.map(\.millis)),
                    SQLArray.ints(txRows.map(\.filledCents)),
                ])
        }
        if !walletRows.isEmpty {
            try db.query(
                """
                INSERT INTO wallet_transactions (id, user_id, stock_tx_id, is_debit, amount_cents, created_at)
                SELECT id, u, t, d, c, to_timestamp(ms / 1000.0)
                FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bool[], $5::bigint[], $6::bigint[])
                     AS w(id, u, t, d, c, ms)
                """,
                [
                    SQLArray.ints(walletRows.map(\.id)), SQLArray.ints(walletRows.map(\.userId)),
                    SQLArray.ints(walletRows.map(\.stockTxId)), SQLArray.bools(walletRows.map(\.isDebit)),
                    SQLArray.ints(walletRows.map(\.cents)), SQLArray.ints(walletRows.map(\.millis)),
                ])
        }
        // Amends first: a parent completed by its amend averages over its new quantity.
        try writeAmends()
        if !parentUpdates.isEmpty {
            let ids = Array(parentUpdates.keys)
            try db.query(
                """
                UPDATE stock_transactions t SET remaining = d.r, status = d.st, filled_cents = t.filled_cents + d.f,
                    price_cents = CASE WHEN d.st = 'COMPLETED' AND t.quantity > 0
                        THEN (t.filled_cents + d.f + t.quantity * 50) / (t.quantity * 100) * 100 ELSE t.price_cents END
                FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[]) AS d(id, r, st, f) WHERE t.id = d.id
                """,
                [
                    SQLArray.ints(ids), SQLArray.ints(ids.map { parentUpdates[$0]?.remaining ?? 0 }),
                    SQLArray.words(ids.map { parentUpdates[$0]?.status.rawValue ?? "" }),
                    SQLArray.ints(ids.map { parentUpdates[$0]?.filledCents ?? 0 }),
                ])
        }
        if !accountDeltas.isEmpty {
            // Ascending user id: one order for every row lock the batch takes at the end.
            try writeAccounts(accountDeltas.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
            accountDeltas.removeAll()
        }
        if !holdingDeltas.isEmpty {
            try writeHoldings(
                holdingDeltas.sorted { ($0.key.userId, $0.key.stockId) < ($1.key.userId, $1.key.stockId) }
                    .map { ($0.key, $0.value) })
            holdingDeltas.removeAll()
        }
        try LedgerTx(db).record(flows)
    }

    /// Account deltas go to the ledger in ascending user id (one lock order for every batch).
    private func writeAccounts(_ rows: [(Int64, Delta)]) throws {
        let written = try LedgerTx(db).applyAccountDeltas(
            rows.map {
                LedgerTx.RowDelta(userId: $0.0, free: $0.1.free, reserved: $0.1.reserved, incoming: $0.1.incoming)
            })
        for row in written { noteCash(row) }
    }

    private func writeHoldings(_ rows: [(HoldingKey, Delta)]) throws {
        try LedgerTx(db).applyHoldingDeltas(
            rows.map {
                LedgerTx.RowDelta(
                    userId: $0.0.userId, stockId: $0.0.stockId, free: $0.1.free, reserved: $0.1.reserved,
                    incoming: $0.1.incoming)
            })
    }
}
