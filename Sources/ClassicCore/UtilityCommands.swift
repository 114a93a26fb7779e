import Ledger
import ServiceCore

/// ADD, QUOTE and DISPLAY_SUMMARY.
extension ClassicEngine {
    func add(_ tx: PGConnection, _ c: inout CommandContext) throws -> JSON {
        let user = try c.requireUser()
        let amount = try ClassicInput.positiveAmount(c.request.amount)
        // ADD creates the user if new (§2); a classic-only user gets no usable password.
        // Created or found in one statement (the outer SELECT sees the table without the new row).
        let made = try tx.query(
            """
            WITH ins AS (
                INSERT INTO users (user_name, password_hash) VALUES ($1, '!classic') ON CONFLICT (user_name) DO NOTHING
                RETURNING id)
            SELECT id FROM ins UNION ALL SELECT id FROM users WHERE user_name = $1 LIMIT 1
            """, [user])
        guard let userId = made.int64(0, 0) else {
            throw LedgerInvariantError("user \(user) vanished")
        }
        if let acting = c.request.actingUserId, acting != userId {
            throw ClassicError(.UNKNOWN_USER, "account '\(user)' does not exist")
        }
        guard let cash = try LedgerTx(tx).deposit(userId, cents: amount, kind: .classicAdd) else {
            throw ClassicInput.balanceBound
        }
        c.account("add", amount, user: user)
        return .object([
            ("userid", .string(user)), ("added", money(amount)), ("cash", money(cash)),
            ("transactionNum", .int(c.txn)),
        ])
    }

    func quoteResult(_ q: Quote, fresh: Bool, txn: Int64) -> JSON {
        .object([
            ("stock", .string(q.symbol)), ("price", money(q.priceCents)), ("quoteServerTime", .int(q.quoteServerTime)),
            ("cryptokey", .string(q.cryptokey)), ("obtainedAt", .int(q.obtainedAt)), ("cached", .bool(!fresh)),
            ("transactionNum", .int(txn)),
        ])
    }

    /// Spec §6: free and reserved cash, holdings, pending BUY/SELLs with seconds left, triggers,
    /// and the user's latest log entries. Runs lazy expiry first so nothing shown is stale.
    func displaySummary(_ tx: PGConnection, _ c: inout CommandContext) throws -> JSON {
        let user = try c.requireUser()
        let acct = try lockAccount(tx, &c)
        let h = try tx.query(
            """
            SELECT s.name, h.quantity, h.reserved FROM holdings h JOIN stocks s ON s.id = h.stock_id
            WHERE h.user_id = $1 AND h.quantity + h.reserved > 0 ORDER BY s.name
            """, [acct.userId])
        let holdings: [JSON] = (0..<h.count).map { i in
            .object([
                ("stock", .string(h.string(i, 0) ?? "")), ("shares", .int(h.int64(i, 1) ?? 0)),
                ("reserved", .int(h.int64(i, 2) ?? 0)),
            ])
        }
        let p = try tx.query(
            """
            SELECT side, symbol, shares, price_cents, held_cents, expires_ms, txn FROM classic_pending
            WHERE user_id = $1 ORDER BY id DESC
            """, [acct.userId])
        var buys: [JSON] = []
        var sells: [JSON] = []
        for i in 0..<p.count {
            let left = max(0, (p.int64(i, 5) ?? 0) - c.t)
            let item = JSON.object([
                ("stock", .string(p.string(i, 1) ?? "")), ("shares", .int(p.int64(i, 2) ?? 0)),
                ("price", money(p.int64(i, 3) ?? 0)), ("amount", money(p.int64(i, 4) ?? 0)),
                ("secondsLeft", .number(Self.seconds(left))),
                ("expiresAt", .int(p.int64(i, 5) ?? 0)), ("transactionNum", .int(p.int64(i, 6) ?? 0)),
            ])
            if p.string(i, 0) == Side.buy.rawValue { buys.append(item) } else { sells.append(item) }
        }
        let t = try tx.query(
            """
            SELECT side, symbol, amount_cents, trigger_cents, reserved_cents, reserved_shares, armed_txn FROM classic_triggers
            WHERE user_id = $1 ORDER BY symbol, side
            """, [acct.userId])
        let triggers: [JSON] = (0..<t.count).map { i in
            let isBuy = t.string(i, 0) == Side.buy.rawValue
            var o: [(String, JSON)] = [
                ("side", .string(isBuy ? "buy" : "sell")), ("stock", .string(t.string(i, 1) ?? "")),
                ("amount", money(t.int64(i, 2) ?? 0)),
                ("triggerPrice", t.int64(i, 3).map(money) ?? .null),
            ]
            if isBuy {
                o.append(("reservedCash", money(t.int64(i, 4) ?? 0)))
            } else {
                o.append(("reservedShares", .int(t.int64(i, 5) ?? 0)))
            }
            o.append(("armedBy", t.int64(i, 6).map { .int($0) } ?? .null))
            return .object(o)
        }
        let recent = try AuditReader.recent(tx, username: user, limit: ClassicEngine.summaryRecent)
        return .object([
            ("userid", .string(user)),
            ("cash", .object([("free", money(acct.cash)), ("reserved", money(acct.reserved))])),
            ("holdings", .array(holdings)),
            ("pendingBuys", .array(buys)),
            ("pendingSells", .array(sells)),
            ("triggers", .array(triggers)),
            ("recent", .array(recent.map(\.json))),
            ("transactionNum", .int(c.txn)),
        ])
    }

    /// Milliseconds as decimal seconds text, e.g. 1500 → "1.500".
    static func seconds(_ ms: Int64) -> String {
        let frac = ms % 1000
        return "\(ms / 1000)." + (frac < 10 ? "00" : frac < 100 ? "0" : "") + "\(frac)"
    }

    /// How many log entries DISPLAY_SUMMARY shows.
    public static let summaryRecent = 20
}
