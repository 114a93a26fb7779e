import Ledger
import ServiceCore

/// SET_*_AMOUNT / SET_*_TRIGGER / CANCEL_SET_* (spec §3.9–3.14, §10.6–10.12). The buy side holds
/// cash from SET_BUY_AMOUNT; the sell side holds shares from SET_SELL_TRIGGER (the count depends
/// on the trigger price).
extension ClassicEngine {
    struct TriggerRow {
        let stockId: Int64
        let amount: Int64
        let reservedCents: Int64
        let reservedShares: Int64
        let triggerCents: Int64?
        let armedTxn: Int64?
    }

    func lockTrigger(_ tx: PGConnection, userId: Int64, side: Side, stockId: Int64) throws -> TriggerRow? {
        let r = try tx.query(
            """
            SELECT amount_cents, reserved_cents, reserved_shares, trigger_cents, armed_txn FROM classic_triggers
            WHERE user_id = $1 AND side = $2 AND stock_id = $3 FOR UPDATE
            """, [userId, side.rawValue, stockId])
        guard let amount = r.int64(0, 0), let rc = r.int64(0, 1), let rs = r.int64(0, 2) else { return nil }
        return TriggerRow(
            stockId: stockId, amount: amount, reservedCents: rc, reservedShares: rs,
            triggerCents: r.int64(0, 3), armedTxn: r.int64(0, 4))
    }

    /// The common start of SET_BUY_TRIGGER / SET_SELL_TRIGGER: the locked account, the symbol and
    /// price, and the locked SET_*_AMOUNT row the trigger arms (NO_BUY_AMOUNT / NO_SELL_AMOUNT if none).
    private func triggerToArm(_ tx: PGConnection, _ c: inout CommandContext, side: Side) throws
        -> (LockedAccount, String, Int64, Int64, TriggerRow)
    {
        let acct = try lockAccount(tx, &c)
        let symbol = try ClassicInput.requireSymbol(c.request.stock)
        let price = try ClassicInput.positiveAmount(c.request.amount, what: "trigger price")
        guard let stockId = try LedgerOps.stockId(tx, name: symbol, create: false),
            let trig = try lockTrigger(tx, userId: acct.userId, side: side, stockId: stockId)
        else {
            throw side == .buy
                ? ClassicError(.NO_BUY_AMOUNT, "no SET_BUY_AMOUNT for \(symbol)")
                : ClassicError(.NO_SELL_AMOUNT, "no SET_SELL_AMOUNT for \(symbol)")
        }
        return (acct, symbol, price, stockId, trig)
    }

    func triggerJSON(_ symbol: String, amount: Int64, price: Int64?, extra: [(String, JSON)], txn: Int64)
        -> JSON
    {
        var o: [(String, JSON)] = [
            ("stock", .string(symbol)), ("amount", money(amount)),
            ("triggerPrice", price.map(money) ?? .null),
        ]
        o.append(contentsOf: extra)
        o.append(("transactionNum", .int(txn)))
        return .object(o)
    }

    // MARK: buy triggers

    func setBuyAmount(_ tx: PGConnection, _ c: inout CommandContext) throws -> JSON {
        if let done = try setBuyAmountFolded(tx, &c) { return done }
        let user = try c.requireUser()
        let acct = try lockAccount(tx, &c)
        let symbol = try ClassicInput.requireSymbol(c.request.stock)
        let amount = try ClassicInput.positiveAmount(c.request.amount)
        guard let stockId = try LedgerOps.stockId(tx, name: symbol, create: true) else {
            throw LedgerInvariantError("stock \(symbol) could not be created")
        }
        let existing = try lockTrigger(tx, userId: acct.userId, side: .buy, stockId: stockId)
        // Repeating replaces the amount and moves the hold by the difference (§10.12); an armed
        // trigger keeps its price (§10.7).
        let delta = amount - (existing?.reservedCents ?? 0)
        guard delta <= acct.cash else {
            let need = existing == nil ? "amount \(Money.format(amount))" : "increase \(Money.format(delta))"
            throw ClassicError(.INSUFFICIENT_FUNDS, "cash \(Money.format(acct.cash)) < \(need)")
        }
        try shiftCash(tx, userId: acct.userId, hold: delta)
        if existing == nil {
            try tx.query(
                """
                INSERT INTO classic_triggers (user_id, side, stock_id, username, symbol, amount_cents, reserved_cents)
                VALUES ($1, 'B', $2, $3, $4, $5, $5)
                """, [acct.userId, stockId, user, symbol, amount])
        } else {
            try tx.query(
                "UPDATE classic_triggers SET amount_cents = $3, reserved_cents = $3 WHERE user_id = $1 AND side = 'B' AND stock_id = $2",
                [acct.userId, stockId, amount])
        }
        if delta > 0 { c.account("remove", delta, user: user) }
        if delta < 0 { c.account("add", -delta, user: user) }
        return triggerJSON(
            symbol, amount: amount, price: existing?.triggerCents,
            extra: [("reserved", money(amount)), ("cash", money(acct.cash - delta))], txn: c.txn)
    }

    func setBuyTrigger(_ tx: PGConnection, _ c: inout CommandContext) throws -> JSON {
        if let done = try setBuyTriggerFolded(tx, &c) { return done }
        let (acct, symbol, price, stockId, trig) = try triggerToArm(tx, &c, side: .buy)
        guard price <= trig.reservedCents else {
            throw ClassicError(
                .ZERO_SHARES,
                "trigger price \(Money.format(price)) is above the reserved \(Money.format(trig.reservedCents)): it could never buy a share"
            )
        }
        try tx.query(
            "UPDATE classic_triggers SET trigger_cents = $3, armed_txn = $4 WHERE user_id = $1 AND side = 'B' AND stock_id = $2",
            [acct.userId, stockId, price, c.txn])
        return triggerJSON(
            symbol, amount: trig.amount, price: price,
            extra: [("reserved", money(trig.reservedCents))], txn: c.txn)
    }

    func cancelSetBuy(_ tx: PGConnection, _ c: inout CommandContext) throws -> JSON {
        if let done = try cancelSetFolded(tx, &c, side: .buy) { return done }
        let user = try c.requireUser()
        let acct = try lockAccount(tx, &c)
        let symbol = try ClassicInput.requireSymbol(c.request.stock)
        guard let stockId = try LedgerOps.stockId(tx, name: symbol, create: false),
            let trig = try lockTrigger(tx, userId: acct.userId, side: .buy, stockId: stockId)
        else {
            throw ClassicError(.NO_BUY_AMOUNT, "no SET_BUY_AMOUNT for \(symbol)")
        }
        try tx.query(
            "DELETE FROM classic_triggers WHERE user_id = $1 AND side = 'B' AND stock_id = $2", [acct.userId, stockId])
        try shiftCash(tx, userId: acct.userId, hold: -trig.reservedCents)
        if trig.reservedCents > 0 { c.account("add", trig.reservedCents, user: user) }
        return triggerJSON(
            symbol, amount: trig.amount, price: trig.triggerCents,
            extra: [("released", money(trig.reservedCents)), ("cash", money(acct.cash + trig.reservedCents))],
            txn: c.txn)
    }

    // MARK: sell triggers

    func setSellAmount(_ tx: PGConnection, _ c: inout CommandContext) throws -> JSON {
        if let done = try setSellAmountFolded(tx, &c) { return done }
        let user = try c.requireUser()
        let acct = try lockAccount(tx, &c)
        let symbol = try ClassicInput.requireSymbol(c.request.stock)
        let amount = try ClassicInput.positiveAmount(c.request.amount)
        guard let stockId = try LedgerOps.stockId(tx, name: symbol, create: false) else {
            throw ClassicError(.NOT_OWNED, "\(user) holds no \(symbol) shares")
        }
        // Lock order everywhere: account, trigger, holding.
        let existing = try lockTrigger(tx, userId: acct.userId, side: .sell, stockId: stockId)
        let holding = try lockHolding(tx, userId: acct.userId, stockId: stockId)
        // §10.8: "owns some" counts free and reserved shares alike.
        guard holding.free + holding.reserved > 0 else {
            throw ClassicError(.NOT_OWNED, "\(user) holds no \(symbol) shares")
        }
        var reservedShares = existing?.reservedShares ?? 0
        if let trig = existing, let price = trig.triggerCents {
            // §10.7: an armed trigger re-reserves at its price for the new amount.
            let want = amount / price
            guard want > 0 else {
                throw ClassicError(
                    .ZERO_SHARES,
                    "amount \(Money.format(amount)) buys 0 shares at the trigger price \(Money.format(price))")
            }
            guard want <= holding.free + trig.reservedShares else {
                throw ClassicError(
                    .INSUFFICIENT_SHARES,
                    "\(holding.free + trig.reservedShares) \(symbol) shares available < \(want) to reserve")
            }
            try shiftReserved(tx, userId: acct.userId, stockId: stockId, by: want - trig.reservedShares)
            reservedShares = want
        }
        if existing == nil {
            try tx.query(
                """
                INSERT INTO classic_triggers (user_id, side, stock_id, username, symbol, amount_cents)
                VALUES ($1, 'S', $2, $3, $4, $5)
                """, [acct.userId, stockId, user, symbol, amount])
        } else {
            try tx.query(
                "UPDATE classic_triggers SET amount_cents = $3, reserved_shares = $4 WHERE user_id = $1 AND side = 'S' AND stock_id = $2",
                [acct.userId, stockId, amount, reservedShares])
        }
        return triggerJSON(
            symbol, amount: amount, price: existing?.triggerCents,
            extra: [("reservedShares", .int(reservedShares))], txn: c.txn)
    }

    func setSellTrigger(_ tx: PGConnection, _ c: inout CommandContext) throws -> JSON {
        if let done = try setSellTriggerFolded(tx, &c) { return done }
        let (acct, symbol, price, stockId, trig) = try triggerToArm(tx, &c, side: .sell)
        let want = trig.amount / price
        guard want > 0 else {
            throw ClassicError(
                .ZERO_SHARES,
                "amount \(Money.format(trig.amount)) reserves 0 shares at trigger price \(Money.format(price))")
        }
        let holding = try lockHolding(tx, userId: acct.userId, stockId: stockId)
        // Setting it again returns the old reserve and takes the new one (§3.13).
        guard want <= holding.free + trig.reservedShares else {
            throw ClassicError(
                .INSUFFICIENT_SHARES,
                "\(holding.free + trig.reservedShares) \(symbol) shares available < \(want) to reserve")
        }
        try shiftReserved(tx, userId: acct.userId, stockId: stockId, by: want - trig.reservedShares)
        try tx.query(
            """
            UPDATE classic_triggers SET trigger_cents = $3, armed_txn = $4, reserved_shares = $5
            WHERE user_id = $1 AND side = 'S' AND stock_id = $2
            """, [acct.userId, stockId, price, c.txn, want])
        return triggerJSON(
            symbol, amount: trig.amount, price: price, extra: [("reservedShares", .int(want))], txn: c.txn)
    }

    func cancelSetSell(_ tx: PGConnection, _ c: inout CommandContext) throws -> JSON {
        if let done = try cancelSetFolded(tx, &c, side: .sell) { return done }
        let acct = try lockAccount(tx, &c)
        let symbol = try ClassicInput.requireSymbol(c.request.stock)
        guard let stockId = try LedgerOps.stockId(tx, name: symbol, create: false),
            let trig = try lockTrigger(tx, userId: acct.userId, side: .sell, stockId: stockId)
        else {
            throw ClassicError(.NO_SELL_AMOUNT, "no SET_SELL_AMOUNT for \(symbol)")
        }
        try tx.query(
            "DELETE FROM classic_triggers WHERE user_id = $1 AND side = 'S' AND stock_id = $2", [acct.userId, stockId])
        try shiftReserved(tx, userId: acct.userId, stockId: stockId, by: -trig.reservedShares)
        return triggerJSON(
            symbol, amount: trig.amount, price: trig.triggerCents,
            extra: [("releasedShares", .int(trig.reservedShares))], txn: c.txn)
    }
}
