import Ledger
import ServiceCore

/// Firing armed triggers (spec §5, §10.5, §10.13). A buy trigger fires when price ≤ trigger and
/// the reserve buys ≥ 1 share; a sell trigger fires when price ≥ trigger. Each firing is one
/// transaction under the user's account lock, logged with the transactionNum that armed it.
extension ClassicEngine {
    /// Checks every armed trigger of `symbol` against `quote` (valid for < 60 s after it was
    /// obtained) and fires those whose condition holds. Returns how many fired.
    @discardableResult
    public func checkTriggers(symbol: String, quote: Quote, db: PGConnection) throws -> Int {
        let validUntil = quotes.validUntil(quote)
        guard clock.nowMillis() < validUntil else { return 0 }
        let p = quote.priceCents
        let r = try db.query(
            """
            SELECT user_id, side FROM classic_triggers
            WHERE symbol = $1 AND trigger_cents IS NOT NULL
              AND ((side = 'B' AND trigger_cents >= $2 AND reserved_cents >= $2) OR (side = 'S' AND trigger_cents <= $2))
            ORDER BY armed_txn, user_id
            """, [symbol, p])
        var fired = 0
        for i in 0..<r.count {
            guard let userId = r.int64(i, 0), let side = r.string(i, 1).flatMap(Side.init(rawValue:)) else { continue }
            if try fire(db, userId: userId, side: side, symbol: symbol, priceCents: p, quoteValidUntil: validUntil) {
                fired += 1
            }
        }
        return fired
    }

    /// Fires one trigger if it is still armed and its condition still holds (re-checked under lock).
    func fire(
        _ db: PGConnection, userId: Int64, side: Side, symbol: String, priceCents p: Int64, quoteValidUntil: Int64
    ) throws -> Bool {
        try db.transaction { tx -> Bool in
            guard try LedgerTx(tx).lockAccount(userId) else { return false }
            // Decided and stamped now, under the account lock, as the user's commands are: a time
            // read before waiting for the lock could precede a command that held it first.
            let now = clock.nowMillis()
            guard now < quoteValidUntil else { return false }
            let r = try tx.query(
                """
                SELECT stock_id, username, reserved_cents, reserved_shares, trigger_cents, armed_txn FROM classic_triggers
                WHERE user_id = $1 AND side = $2 AND symbol = $3 FOR UPDATE
                """, [userId, side.rawValue, symbol])
            guard let stockId = r.int64(0, 0), let user = r.string(0, 1), let rc = r.int64(0, 2),
                let rs = r.int64(0, 3),
                let trigger = r.int64(0, 4), let txn = r.int64(0, 5)
            else { return false }
            var log = AuditBuffer()
            if side == .buy {
                let shares = rc / p
                guard p <= trigger, shares > 0 else { return false } // stays armed (§10.5)
                let cost = shares * p
                let rest = rc - cost
                // The whole reserve leaves escrow: `cost` goes to the market, the rest back to cash.
                // Past the holding's bound the trigger stays armed (the ledger checks it first).
                guard
                    try LedgerTx(tx).settleMarketBuy(
                        userId, stockId: stockId, heldCents: rc, costCents: cost, shares: shares,
                        kind: .classicTriggerBuy)
                else { return false }
                log.append(
                    AuditEntry(
                        kind: .systemEvent, timestamp: now, server: server, transactionNum: txn,
                        command: .SET_BUY_TRIGGER, username: user, stockSymbol: symbol, fundsCents: p))
                if rest > 0 { log.append(.account("add", cents: rest, user: user, at: now, server: server, txn: txn)) }
            } else {
                guard p >= trigger, rs > 0 else { return false }
                let (proceeds, overflow) = rs.multipliedReportingOverflow(by: p)
                // Past the balance's bound the trigger stays armed (the ledger checks it first).
                guard !overflow,
                    try LedgerTx(tx).settleMarketSell(
                        userId, stockId: stockId, shares: rs, proceedsCents: proceeds,
                        kind: .classicTriggerSell)
                else { return false }
                log.append(
                    AuditEntry(
                        kind: .systemEvent, timestamp: now, server: server, transactionNum: txn,
                        command: .SET_SELL_TRIGGER, username: user, stockSymbol: symbol, fundsCents: p))
                log.append(.account("add", cents: proceeds, user: user, at: now, server: server, txn: txn))
            }
            try tx.query(
                "DELETE FROM classic_triggers WHERE user_id = $1 AND side = $2 AND stock_id = $3",
                [userId, side.rawValue, stockId])
            try log.flush(tx)
            return true
        }
    }

    /// A symbol with armed triggers, and the trigger a poll's quote is requested for (its user
    /// and arming transactionNum go into the quoteServer entry of a fresh hit).
    public struct WatchedSymbol: Sendable, Equatable {
        public let symbol: String
        public let username: String
        public let armedTxn: Int64
    }

    public func watchedSymbols(db: PGConnection) throws -> [WatchedSymbol] {
        let r = try db.query(
            """
            SELECT DISTINCT ON (symbol) symbol, username, armed_txn FROM classic_triggers
            WHERE trigger_cents IS NOT NULL ORDER BY symbol, armed_txn
            """)
        return (0..<r.count).compactMap { i in
            guard let s = r.string(i, 0), let u = r.string(i, 1), let t = r.int64(i, 2) else { return nil }
            return WatchedSymbol(symbol: s, username: u, armedTxn: t)
        }
    }

    /// One poll of one watched symbol through the shared cache: a fresh hit is logged (with the
    /// arming transactionNum of the trigger it was asked for), then the triggers are checked.
    @discardableResult
    public func pollSymbol(_ w: WatchedSymbol, db: PGConnection, redis: RedisConnection?) throws -> Int {
        let look = try quotes.get(symbol: w.symbol, user: w.username, redis: redis)
        if look.fresh {
            var log = AuditBuffer()
            log.append(.quote(look.quote, server: server, txn: w.armedTxn))
            try db.transaction { tx in try log.flush(tx) }
        }
        return try checkTriggers(symbol: w.symbol, quote: look.quote, db: db)
    }
}
