import ServiceCore

/// The matching engine's writes. They return the account's `cash_cents, version` (the platform's
/// migration 203 adds `version`) so the engine's wallet cache can compare-and-set.
extension LedgerTx {
    /// Free cash and row version after a write.
    public struct CashRow: Sendable {
        public let userId: Int64
        public let cents: Int64
        public let version: Int64
    }

    /// Changes to one row's free, reserved and incoming columns (a batch's sum per row).
    public struct RowDelta: Sendable {
        public var userId: Int64
        /// nil for an account row.
        public var stockId: Int64?
        public var free: Int64
        public var reserved: Int64
        public var incoming: Int64

        public init(userId: Int64, stockId: Int64? = nil, free: Int64, reserved: Int64, incoming: Int64) {
            self.userId = userId
            self.stockId = stockId
            self.free = free
            self.reserved = reserved
            self.incoming = incoming
        }

        var onlyGains: Bool { free >= 0 && reserved >= 0 && incoming >= 0 }
    }

    private static func cashRow(_ userId: Int64, _ r: PGResult?) -> CashRow? {
        guard let r, let c = r.int64(0, 0), let v = r.int64(0, 1) else { return nil }
        return CashRow(userId: userId, cents: c, version: v)
    }

    /// `reserveCash` for the engine. Nil = insufficient free cash.
    public func reserveCashVersioned(_ userId: Int64, cents: Int64) throws -> CashRow? {
        Self.cashRow(userId, try reserveCashRow(userId, cents: cents, returning: "cash_cents, version"))
    }

    /// A market buy's cost leaves free cash (decided under the account lock the engine took
    /// before asking the book, so it cannot go negative; the CHECK constraint is the backstop).
    public func debitCash(_ userId: Int64, cents: Int64) throws -> CashRow? {
        Self.cashRow(
            userId,
            try db.query(
                "UPDATE accounts SET cash_cents = cash_cents - $1 WHERE user_id = $2 RETURNING cash_cents, version",
                [cents, userId]))
    }

    /// A market sell takes its shares out of the free holding before the book trades them
    /// (given back through `applyDeltas` if the book refuses). False = fewer free shares.
    public func takeFreeShares(_ userId: Int64, stockId: Int64, shares: Int64) throws -> Bool {
        try db.query(
            "UPDATE holdings SET quantity = quantity - $1 WHERE user_id = $2 AND stock_id = $3 AND quantity >= $1",
            [shares, userId, stockId]
        ).affectedRows == 1
    }

    /// A platform deposit's credit under `bound` (total of free + reserved + incoming), creating
    /// the account; the caller records the flow. Nil = past the bound.
    public func creditCashVersioned(_ userId: Int64, cents: Int64, bound: Int64) throws -> CashRow? {
        let r = try db.query(
            """
            INSERT INTO accounts (user_id, cash_cents) VALUES ($1, $2)
            ON CONFLICT (user_id) DO UPDATE SET cash_cents = accounts.cash_cents + EXCLUDED.cash_cents
            WHERE accounts.cash_cents + accounts.reserved_cents + accounts.incoming_cents <= $3 - EXCLUDED.cash_cents
            RETURNING cash_cents, version
            """, [userId, cents, bound])
        return Self.cashRow(userId, r.count == 1 ? r : nil)
    }

    /// Adds summed deltas to account rows, in ascending user id (the one lock order of a batch).
    /// Rows gaining only go through an upsert (someone's first proceeds create the account); rows
    /// losing anything already exist (a release of what an earlier write reserved) and take a
    /// plain UPDATE, since an upsert checks constraints on the would-be new row first.
    public func applyAccountDeltas(_ rows: [RowDelta]) throws -> [CashRow] {
        let sorted = rows.sorted { $0.userId < $1.userId }
        let gains = sorted.filter(\.onlyGains)
        let others = sorted.filter { !$0.onlyGains }
        var results: [PGResult] = []
        if !gains.isEmpty {
            results.append(
                try db.query(
                    """
                    INSERT INTO accounts (user_id, cash_cents, reserved_cents, incoming_cents)
                    SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[])
                    ON CONFLICT (user_id) DO UPDATE SET cash_cents = accounts.cash_cents + EXCLUDED.cash_cents,
                                                        reserved_cents = accounts.reserved_cents + EXCLUDED.reserved_cents,
                                                        incoming_cents = accounts.incoming_cents + EXCLUDED.incoming_cents
                    RETURNING user_id, cash_cents, version
                    """, Self.columns(gains)))
        }
        if !others.isEmpty {
            let r = try db.query(
                """
                UPDATE accounts a SET cash_cents = a.cash_cents + d.c, reserved_cents = a.reserved_cents + d.r,
                                      incoming_cents = a.incoming_cents + d.i
                FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[]) AS d(u, c, r, i) WHERE a.user_id = d.u
                RETURNING a.user_id, a.cash_cents, a.version
                """, Self.columns(others))
            guard r.count == others.count else {
                throw LedgerInvariantError("release on a missing account (\(others.count - r.count) rows)")
            }
            results.append(r)
        }
        var out: [CashRow] = []
        for r in results {
            for i in 0..<r.count {
                if let u = r.int64(i, 0), let c = r.int64(i, 1), let v = r.int64(i, 2) {
                    out.append(CashRow(userId: u, cents: c, version: v))
                }
            }
        }
        return out
    }

    /// Adds summed deltas to holdings (`stockId` set), in ascending (user, stock) order.
    public func applyHoldingDeltas(_ rows: [RowDelta]) throws {
        let sorted = rows.sorted { ($0.userId, $0.stockId ?? 0) < ($1.userId, $1.stockId ?? 0) }
        let gains = sorted.filter(\.onlyGains)
        let others = sorted.filter { !$0.onlyGains }
        if !gains.isEmpty {
            try db.query(
                """
                INSERT INTO holdings (user_id, stock_id, quantity, reserved, incoming)
                SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[])
                ON CONFLICT (user_id, stock_id) DO UPDATE SET quantity = holdings.quantity + EXCLUDED.quantity,
                                                              reserved = holdings.reserved + EXCLUDED.reserved,
                                                              incoming = holdings.incoming + EXCLUDED.incoming
                """, Self.holdingColumns(gains))
        }
        if !others.isEmpty {
            let r = try db.query(
                """
                UPDATE holdings h SET quantity = h.quantity + d.q, reserved = h.reserved + d.r, incoming = h.incoming + d.i
                FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[]) AS d(u, s, q, r, i)
                WHERE h.user_id = d.u AND h.stock_id = d.s
                """, Self.holdingColumns(others))
            guard r.affectedRows == others.count else {
                throw LedgerInvariantError("release on a missing holding (\(others.count - r.affectedRows) rows)")
            }
        }
    }

    private static func columns(_ rows: [RowDelta]) -> [String] {
        [
            SQLArray.ints(rows.map(\.userId)), SQLArray.ints(rows.map(\.free)), SQLArray.ints(rows.map(\.reserved)),
            SQLArray.ints(rows.map(\.incoming)),
        ]
    }

    private static func holdingColumns(_ rows: [RowDelta]) -> [String] {
        [SQLArray.ints(rows.map(\.userId)), SQLArray.ints(rows.map { $0.stockId ?? 0 })]
            + Array(columns(rows).dropFirst())
    }
}
