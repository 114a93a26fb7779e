import ServiceCore

/// The only code that writes `accounts` and `holdings`: a typed view of the caller's open
/// transaction. Each move is one conditional statement that changes nothing when its check
/// fails (false / nil), and every move across the system's edge records its `external_flows`
/// row in the same transaction, so conservation holds at every commit.
///
/// Lock order, everywhere: the account row first, then that user's holdings. Methods that touch
/// both (the settlements) expect the caller to hold the account lock already (`lockAccount`).
public struct LedgerTx {
    public let db: PGConnection

    /// `db` must be inside a transaction the caller commits.
    public init(_ db: PGConnection) { self.db = db }

    // MARK: locks

    /// Locks the account row for the rest of the transaction; false when there is none.
    @discardableResult
    public func lockAccount(_ userId: Int64) throws -> Bool {
        try db.query("SELECT 1 FROM accounts WHERE user_id = $1 FOR UPDATE", [userId]).count == 1
    }

    /// Locks the accounts of these user names for the rest of the transaction, in ascending id
    /// order (the sort runs below the row locks), so two callers never deadlock on each other.
    /// Unknown names are skipped.
    public func lockAccounts(named names: [String]) throws {
        guard !names.isEmpty else { return }
        try db.query(
            """
            SELECT a.user_id FROM users u JOIN accounts a ON a.user_id = u.id
            WHERE u.user_name = ANY($1::TEXT[]) ORDER BY a.user_id FOR UPDATE OF a
            """, [SQLArray.texts(names)])
    }

    /// Locks these accounts for the rest of the transaction in ascending id order (the sort runs
    /// below the row locks): the order `lockAccounts(named:)` takes too.
    public func lockAccounts(ids: Set<Int64>) throws {
        guard !ids.isEmpty else { return }
        try db.query(
            "SELECT user_id FROM accounts WHERE user_id = ANY($1::bigint[]) ORDER BY user_id FOR UPDATE",
            [SQLArray.ints(ids.sorted())])
    }

    /// Locked free and reserved shares of one holding ((0, 0) when there is none).
    public func lockHolding(_ userId: Int64, stockId: Int64) throws -> (free: Int64, reserved: Int64) {
        let r = try db.query(
            "SELECT quantity, reserved FROM holdings WHERE user_id = $1 AND stock_id = $2 FOR UPDATE",
            [userId, stockId])
        return (r.int64(0, 0) ?? 0, r.int64(0, 1) ?? 0)
    }

    // MARK: across the edge

    /// Money from outside (classic ADD, platform deposit), creating the account. Returns the new
    /// free cash; nil = the balance would pass `LedgerBounds` (nothing changed).
    public func deposit(_ userId: Int64, cents: Int64, kind: FlowKind) throws -> Int64? {
        try LedgerOps.deposit(db, userId: userId, cents: cents, kind: kind.rawValue)
    }

    /// Shares from outside (setup's addStockToUser), creating the holding. False = past the bound.
    public func grantShares(_ userId: Int64, stockId: Int64, shares: Int64, kind: FlowKind = .grant) throws -> Bool {
        guard try LedgerOps.creditShares(db, userId: userId, stockId: stockId, shares: shares) else { return false }
        try record(LedgerFlow(userId: userId, kind: kind, stockId: stockId, shares: shares))
        return true
    }

    /// A buy from the market settles: `heldCents` leaves the account's reserve, `costCents` of it
    /// leaves the system, the rest returns to free cash, and `shares` arrive free. False = the
    /// holding would pass its bound (checked first, nothing changed). Caller holds the account lock.
    public func settleMarketBuy(
        _ userId: Int64, stockId: Int64, heldCents: Int64, costCents: Int64, shares: Int64,
        kind: FlowKind
    ) throws -> Bool {
        guard costCents >= 0, costCents <= heldCents else {
            throw LedgerInvariantError("buy of user \(userId) costs \(costCents) but holds \(heldCents)")
        }
        guard try LedgerOps.creditShares(db, userId: userId, stockId: stockId, shares: shares) else { return false }
        let r = try db.query(
            """
            UPDATE accounts SET reserved_cents = reserved_cents - $2, cash_cents = cash_cents + $3
            WHERE user_id = $1 AND reserved_cents >= $2
            """, [userId, heldCents, heldCents - costCents])
        guard r.affectedRows == 1 else { throw LedgerInvariantError("account \(userId) lacks the held \(heldCents)") }
        try record(LedgerFlow(userId: userId, kind: kind, cents: -costCents, stockId: stockId, shares: shares))
        return true
    }

    /// A sale to the market settles: `shares` leave the holding's reserve and the system,
    /// `proceedsCents` arrive as free cash. False = the balance would pass its bound (checked
    /// first, nothing changed). Caller holds the account lock.
    public func settleMarketSell(
        _ userId: Int64, stockId: Int64, shares: Int64, proceedsCents: Int64,
        kind: FlowKind
    ) throws -> Bool {
        guard try LedgerOps.credit(db, userId: userId, cents: proceedsCents) != nil else { return false }
        let r = try db.query(
            "UPDATE holdings SET reserved = reserved - $3 WHERE user_id = $1 AND stock_id = $2 AND reserved >= $3",
            [userId, stockId, shares])
        guard r.affectedRows == 1 else {
            throw LedgerInvariantError("holding of user \(userId) lacks \(shares) held shares")
        }
        try record(LedgerFlow(userId: userId, kind: kind, cents: proceedsCents, stockId: stockId, shares: -shares))
        return true
    }

    // MARK: escrow inside the system

    /// Moves free cash into the reserve. False = less free cash than `cents` (nothing changed).
    public func reserveCash(_ userId: Int64, cents: Int64) throws -> Bool {
        try reserveCashRow(userId, cents: cents, returning: "1") != nil
    }

    /// Moves reserved cash back to free; the reserve must hold it (else the locks failed: throws).
    public func releaseCash(_ userId: Int64, cents: Int64) throws {
        guard cents != 0 else { return }
        let r = try db.query(
            """
            UPDATE accounts SET cash_cents = cash_cents + $2, reserved_cents = reserved_cents - $2
            WHERE user_id = $1 AND reserved_cents >= $2 AND $2 > 0
            """, [userId, cents])
        guard r.affectedRows == 1 else { throw LedgerInvariantError("account \(userId) cannot release \(cents) cents") }
    }

    /// Moves free shares into the reserve. False = fewer free shares than `shares`.
    public func reserveShares(_ userId: Int64, stockId: Int64, shares: Int64) throws -> Bool {
        guard shares > 0 else { return shares == 0 }
        let r = try db.query(
            """
            UPDATE holdings SET quantity = quantity - $3, reserved = reserved + $3
            WHERE user_id = $1 AND stock_id = $2 AND quantity >= $3
            """, [userId, stockId, shares])
        return r.affectedRows == 1
    }

    /// Moves reserved shares back to free; the reserve must hold them (else throws).
    public func releaseShares(_ userId: Int64, stockId: Int64, shares: Int64) throws {
        guard shares != 0 else { return }
        let r = try db.query(
            """
            UPDATE holdings SET quantity = quantity + $3, reserved = reserved - $3
            WHERE user_id = $1 AND stock_id = $2 AND reserved >= $3 AND $3 > 0
            """, [userId, stockId, shares])
        guard r.affectedRows == 1 else {
            throw LedgerInvariantError("holding of user \(userId) cannot release \(shares) shares")
        }
    }

    // MARK: helpers

    /// Records moves across the system's edge (one multi-row insert).
    public func record(_ flows: LedgerFlow...) throws { try record(flows) }

    public func record(_ flows: [LedgerFlow]) throws {
        guard !flows.isEmpty else { return }
        if flows.count == 1, let f = flows.first {
            try LedgerOps.recordFlow(
                db, userId: f.userId, kind: f.kind.rawValue, cents: f.cents, stockId: f.stockId, shares: f.shares)
            return
        }
        try db.query(
            """
            INSERT INTO external_flows (user_id, kind, cents, stock_id, shares)
            SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[])
            """,
            [
                SQLArray.ints(flows.map(\.userId)), SQLArray.words(flows.map(\.kind.rawValue)),
                SQLArray.ints(flows.map(\.cents)), SQLArray.optionalInts(flows.map(\.stockId)),
                SQLArray.ints(flows.map(\.shares)),
            ])
    }

    /// `returning` is a constant of this module, never input.
    func reserveCashRow(_ userId: Int64, cents: Int64, returning: String) throws -> PGResult? {
        guard cents >= 0 else { return nil }
        let r = try db.query(
            """
            UPDATE accounts SET cash_cents = cash_cents - $2, reserved_cents = reserved_cents + $2
            WHERE user_id = $1 AND cash_cents >= $2 RETURNING \(returning)
            """, [userId, cents])
        return r.count == 1 ? r : nil
    }
}

/// A guarded update found the ledger in a state the locks should have prevented: roll back.
public struct LedgerInvariantError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}
