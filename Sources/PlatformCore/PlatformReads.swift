import ServiceCore

/// Read-only queries behind the GET endpoints, rendered exactly as spec/platform.md §1.2–1.3:
/// ids as strings, money as integers when whole, null keys present, oldest first, [] when empty.
public enum PlatformReads {
    static let isoTime = #"to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"+00:00"')"#

    /// Oldest first (`time_stamp` ascending, spec §1.1): by id, the engine's acceptance order,
    /// which an amend does not change (it moves the order in the book, not in time). With several
    /// engine shards (`byTime`), each draws ids in its own blocks, which says nothing about time
    /// across shards: then by `created_at` (the engine's clock when it accepted the order, in ms),
    /// ties by id (docs/sharding.md).
    public static func stockTransactions(_ db: PGConnection, userId: Int64, byTime: Bool = false) throws -> JSON {
        let r = try db.query(
            """
            SELECT id, parent_id, stock_id, wallet_tx_id, status, is_buy, order_type, price_cents, quantity, \(isoTime)
            FROM stock_transactions WHERE user_id = $1 ORDER BY \(byTime ? "created_at, id" : "id")
            """, [userId])
        var items: [JSON] = []
        items.reserveCapacity(r.count)
        for i in 0..<r.count {
            items.append(
                .object([
                    ("stock_tx_id", idJSON(r, i, 0)),
                    ("parent_stock_tx_id", idJSON(r, i, 1)),
                    ("stock_id", idJSON(r, i, 2)),
                    ("wallet_tx_id", idJSON(r, i, 3)),
                    ("order_status", .string(r.string(i, 4) ?? "")),
                    ("is_buy", .bool(r.bool(i, 5) ?? false)),
                    ("order_type", .string(r.string(i, 6) ?? "")),
                    ("stock_price", Money.json(r.int64(i, 7) ?? 0)),
                    ("quantity", .int(r.int64(i, 8) ?? 0)),
                    ("time_stamp", .string(r.string(i, 9) ?? "")),
                ]))
        }
        return .array(items)
    }

    /// Oldest first: by id, or with several engine shards by `created_at`, ties by id.
    public static func walletTransactions(_ db: PGConnection, userId: Int64, byTime: Bool = false) throws -> JSON {
        let r = try db.query(
            """
            SELECT id, stock_tx_id, is_debit, amount_cents, \(isoTime)
            FROM wallet_transactions WHERE user_id = $1 ORDER BY \(byTime ? "created_at, id" : "id")
            """, [userId])
        var items: [JSON] = []
        items.reserveCapacity(r.count)
        for i in 0..<r.count {
            items.append(
                .object([
                    ("wallet_tx_id", idJSON(r, i, 0)),
                    ("stock_tx_id", idJSON(r, i, 1)),
                    ("is_debit", .bool(r.bool(i, 2) ?? false)),
                    ("amount", Money.json(r.int64(i, 3) ?? 0)),
                    ("time_stamp", .string(r.string(i, 4) ?? "")),
                ]))
        }
        return .array(items)
    }

    /// Free shares only (escrowed shares have left the portfolio), in the order the stocks were
    /// created (spec §1.1, §5.3).
    public static func portfolio(_ db: PGConnection, userId: Int64) throws -> JSON {
        let r = try db.query(
            """
            SELECT h.stock_id, s.name, h.quantity FROM holdings h JOIN stocks s ON s.id = h.stock_id
            WHERE h.user_id = $1 AND h.quantity > 0 ORDER BY h.stock_id
            """, [userId])
        return .array(
            (0..<r.count).map { i in
                .object([
                    ("stock_id", idJSON(r, i, 0)), ("stock_name", .string(r.string(i, 1) ?? "")),
                    ("quantity_owned", .int(r.int64(i, 2) ?? 0)),
                ])
            })
    }

    /// Free cash in cents (0 before the first deposit).
    /// Free cash and the account row's version. Before the first deposit there is no row: 0 cents
    /// at version -1, older than any row's (a new row starts at 0), so the cached "no account yet"
    /// never outranks the first deposit's write-through.
    public static func balanceCents(_ db: PGConnection, userId: Int64) throws -> (cents: Int64, version: Int64) {
        let r = try db.query("SELECT cash_cents, version FROM accounts WHERE user_id = $1", [userId])
        return (r.int64(0, 0) ?? 0, r.int64(0, 1) ?? -1)
    }

    static func idJSON(_ r: PGResult, _ row: Int, _ col: Int) -> JSON {
        r.string(row, col).map { .string($0) } ?? .null
    }
}
