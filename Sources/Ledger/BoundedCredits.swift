import ServiceCore

/// Every credit of cash or shares, and every promise of future ones (`incoming`), goes through
/// one conditional upsert that refuses to take a row's total (free + reserved + incoming) past
/// its `LedgerBounds`. Refused = nothing changed, so callers answer 400 before anything trades.
extension LedgerOps {
    /// Adds free cash (creating the account). Returns the new free cash; nil = refused.
    public static func credit(_ db: PGConnection, userId: Int64, cents: Int64) throws -> Int64? {
        try addWithinBound(db, .account(userId), column: "cash_cents", amount: cents, returning: "cash_cents")?.int64(
            0, 0)
    }

    /// Adds free shares (creating the holding). False = refused.
    public static func creditShares(_ db: PGConnection, userId: Int64, stockId: Int64, shares: Int64) throws -> Bool {
        try addWithinBound(db, .holding(userId, stockId), column: "quantity", amount: shares) != nil
    }

    /// Promises `cents` of future proceeds to the account (creating it). False = refused.
    public static func reserveIncomingCash(_ db: PGConnection, userId: Int64, cents: Int64) throws -> Bool {
        try addWithinBound(db, .account(userId), column: "incoming_cents", amount: cents) != nil
    }

    /// Promises `shares` future shares to the holding (creating it). False = refused.
    public static func reserveIncomingShares(_ db: PGConnection, userId: Int64, stockId: Int64, shares: Int64) throws
        -> Bool
    {
        try addWithinBound(db, .holding(userId, stockId), column: "incoming", amount: shares) != nil
    }

    private enum BoundedRow {
        case account(Int64)
        case holding(Int64, Int64)
    }

    /// `column` is one of this file's constants, never input. Nil = refused.
    private static func addWithinBound(
        _ db: PGConnection, _ row: BoundedRow, column: String, amount: Int64,
        returning: String = "1"
    ) throws -> PGResult? {
        let (table, keys, total, bound, params): (String, String, String, Int64, [any PGBindable])
        switch row {
        case .account(let user):
            (table, keys, total, bound, params) = (
                "accounts", "user_id", "accounts.cash_cents + accounts.reserved_cents + accounts.incoming_cents",
                LedgerBounds.maxBalanceCents, [user]
            )
        case .holding(let user, let stock):
            (table, keys, total, bound, params) = (
                "holdings", "user_id, stock_id", "holdings.quantity + holdings.reserved + holdings.incoming",
                LedgerBounds.maxHoldingShares, [user, stock]
            )
        }
        guard amount >= 0, amount <= bound else { return nil }
        let n = params.count
        let placeholders = (1...n).map { "$\($0)" }.joined(separator: ", ")
        let r = try db.query(
            """
            INSERT INTO \(table) (\(keys), \(column)) VALUES (\(placeholders), $\(n + 1))
            ON CONFLICT (\(keys)) DO UPDATE SET \(column) = \(table).\(column) + EXCLUDED.\(column)
            WHERE \(total) <= $\(n + 2) - EXCLUDED.\(column)
            RETURNING \(returning)
            """, params + [amount, bound])
        return r.count == 1 ? r : nil
    }
}
