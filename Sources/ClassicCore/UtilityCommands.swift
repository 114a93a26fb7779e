import Ledger
import ServiceCore

/// ADD, QUOTE and DISPLAY_SUMMARY.
extension ClassicEngine {
    func add(_ tx: PGConnection, _ c: inout CommandContext) throws -> JSON {
        let user = try c.requireUser()
        let amount = try ClassicInput.positiveAmount(c.request.amount)
        if folded {
            // The user upsert and the deposit in one call (`ClassicSchema.utilityFunctions`).
            let r = try tx.query(
                "SELECT * FROM classic_add($1, $2::BIGINT, $3)", [user, c.request.actingUserId, amount])
            switch r.string(0, 0) {
            case "OK": return added(&c, user, amount, cash: r.int64(0, 1) ?? 0)
            case "UNKNOWN_USER": throw ClassicError(.UNKNOWN_USER, "account '\(user)' does not exist")
            case "BOUND": throw ClassicInput.balanceBound
            default: throw LedgerInvariantError("classic_add returned \(r.string(0, 0) ?? "nothing")")
            }
        }
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
        return added(&c, user, amount, cash: cash)
    }

    private func added(_ c: inout CommandContext, _ user: String, _ amount: Int64, cash: Int64) -> JSON {
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
        let s = try summaryFolded(tx, &c) ?? summaryRead(tx, &c)
        let holdings: [JSON] = s.holdings.map { h in
            .object([("stock", .string(h.stock)), ("shares", .int(h.shares)), ("reserved", .int(h.reserved))])
        }
        var buys: [JSON] = []
        var sells: [JSON] = []
        for p in s.pending {
            let left = max(0, p.expiresAt - c.t)
            let item = JSON.object([
                ("stock", .string(p.symbol)), ("shares", .int(p.shares)),
                ("price", money(p.price)), ("amount", money(p.held)),
                ("secondsLeft", .number(Self.seconds(left))),
                ("expiresAt", .int(p.expiresAt)), ("transactionNum", .int(p.txn)),
            ])
            if p.side == Side.buy.rawValue { buys.append(item) } else { sells.append(item) }
        }
        let triggers: [JSON] = s.triggers.map { t in
            let isBuy = t.side == Side.buy.rawValue
            var o: [(String, JSON)] = [
                ("side", .string(isBuy ? "buy" : "sell")), ("stock", .string(t.symbol)),
                ("amount", money(t.amount)),
                ("triggerPrice", t.price.map(money) ?? .null),
            ]
            if isBuy {
                o.append(("reservedCash", money(t.reservedCents)))
            } else {
                o.append(("reservedShares", .int(t.reservedShares)))
            }
            o.append(("armedBy", t.armedTxn.map { .int($0) } ?? .null))
            return .object(o)
        }
        let recent = try AuditReader.recent(tx, username: user, limit: ClassicEngine.summaryRecent)
        return .object([
            ("userid", .string(user)),
            ("cash", .object([("free", money(s.cash)), ("reserved", money(s.reserved))])),
            ("holdings", .array(holdings)),
            ("pendingBuys", .array(buys)),
            ("pendingSells", .array(sells)),
            ("triggers", .array(triggers)),
            ("recent", .array(recent.map(\.json))),
            ("transactionNum", .int(c.txn)),
        ])
    }

    /// What DISPLAY_SUMMARY shows besides the log, read under the account lock.
    struct SummaryRows {
        var cash: Int64 = 0
        var reserved: Int64 = 0
        var holdings: [(stock: String, shares: Int64, reserved: Int64)] = []
        var pending:
            [(side: String, symbol: String, shares: Int64, price: Int64, held: Int64, expiresAt: Int64, txn: Int64)] =
                []
        var triggers:
            [(
                side: String, symbol: String, amount: Int64, price: Int64?, reservedCents: Int64,
                reservedShares: Int64, armedTxn: Int64?
            )] = []
    }

    /// One call (`classic_summary`); nil = folding is off or an order is due (lazy expiry first).
    private func summaryFolded(_ tx: PGConnection, _ c: inout CommandContext) throws -> SummaryRows? {
        guard let (status, r) = try callFolded(tx, c, "SELECT * FROM classic_summary($1, $2::BIGINT, $3)", []) else {
            return nil
        }
        guard status == "OK" else { throw LedgerInvariantError("classic_summary returned status \(status)") }
        var s = SummaryRows(cash: r.int64(0, 3) ?? 0, reserved: r.int64(0, 4) ?? 0)
        for i in 1..<max(1, r.count) {
            let t1 = r.string(i, 1) ?? ""
            let t2 = r.string(i, 2) ?? ""
            switch r.string(i, 0) {
            case "H": s.holdings.append((t1, r.int64(i, 3) ?? 0, r.int64(i, 4) ?? 0))
            case "P":
                s.pending.append(
                    (
                        t1, t2, r.int64(i, 3) ?? 0, r.int64(i, 4) ?? 0, r.int64(i, 5) ?? 0, r.int64(i, 6) ?? 0,
                        r.int64(i, 7) ?? 0
                    ))
            case "T":
                s.triggers.append(
                    (t1, t2, r.int64(i, 3) ?? 0, r.int64(i, 4), r.int64(i, 5) ?? 0, r.int64(i, 6) ?? 0, r.int64(i, 7)))
            default: throw LedgerInvariantError("classic_summary returned row tag \(r.string(i, 0) ?? "nil")")
            }
        }
        return s
    }

    /// Statement by statement: lock (with lazy expiry), then holdings, pending orders, triggers.
    private func summaryRead(_ tx: PGConnection, _ c: inout CommandContext) throws -> SummaryRows {
        let acct = try lockAccount(tx, &c)
        var s = SummaryRows(cash: acct.cash, reserved: acct.reserved)
        let h = try tx.query(
            """
            SELECT s.name, h.quantity, h.reserved FROM holdings h JOIN stocks s ON s.id = h.stock_id
            WHERE h.user_id = $1 AND h.quantity + h.reserved > 0 ORDER BY s.name
            """, [acct.userId])
        for i in 0..<h.count { s.holdings.append((h.string(i, 0) ?? "", h.int64(i, 1) ?? 0, h.int64(i, 2) ?? 0)) }
        let p = try tx.query(
            """
            SELECT side, symbol, shares, price_cents, held_cents, expires_ms, txn FROM classic_pending
            WHERE user_id = $1 ORDER BY id DESC
            """, [acct.userId])
        for i in 0..<p.count {
            s.pending.append(
                (
                    p.string(i, 0) ?? "", p.string(i, 1) ?? "", p.int64(i, 2) ?? 0, p.int64(i, 3) ?? 0,
                    p.int64(i, 4) ?? 0, p.int64(i, 5) ?? 0, p.int64(i, 6) ?? 0
                ))
        }
        let t = try tx.query(
            """
            SELECT side, symbol, amount_cents, trigger_cents, reserved_cents, reserved_shares, armed_txn FROM classic_triggers
            WHERE user_id = $1 ORDER BY symbol, side
            """, [acct.userId])
        for i in 0..<t.count {
            s.triggers.append(
                (
                    t.string(i, 0) ?? "", t.string(i, 1) ?? "", t.int64(i, 2) ?? 0, t.int64(i, 3),
                    t.int64(i, 4) ?? 0, t.int64(i, 5) ?? 0, t.int64(i, 6)
                ))
        }
        return s
    }

    /// Milliseconds as decimal seconds text, e.g. 1500 → "1.500".
    static func seconds(_ ms: Int64) -> String {
        let frac = ms % 1000
        return "\(ms / 1000)." + (frac < 10 ? "00" : frac < 100 ? "0" : "") + "\(frac)"
    }

    /// How many log entries DISPLAY_SUMMARY shows.
    public static let summaryRecent = 20
}
