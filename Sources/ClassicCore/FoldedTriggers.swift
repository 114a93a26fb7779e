import Ledger
import ServiceCore

/// The one-call paths of the trigger commands (`ClassicSchema.triggerFunctions`). nil = run the
/// statement-by-statement path: folding is off, the input is invalid (that path reports it after
/// the account lock, so an unknown user still comes first), or an order of the user is due.
extension ClassicEngine {
    /// The symbol and amount (or trigger price), when both are valid.
    private func validInput(_ c: CommandContext) -> (String, Int64)? {
        guard folded, let s = ClassicInput.symbol(c.request.stock),
            let a = try? ClassicInput.positiveAmount(c.request.amount)
        else { return nil }
        return (s, a)
    }

    private func noAmount(_ side: Side, _ symbol: String) -> ClassicError {
        side == .buy
            ? ClassicError(.NO_BUY_AMOUNT, "no SET_BUY_AMOUNT for \(symbol)")
            : ClassicError(.NO_SELL_AMOUNT, "no SET_SELL_AMOUNT for \(symbol)")
    }

    private func unexpected(_ status: String, _ c: CommandContext) -> LedgerInvariantError {
        LedgerInvariantError("folded \(c.request.command.rawValue) returned status \(status)")
    }

    func setBuyAmountFolded(_ tx: PGConnection, _ c: inout CommandContext) throws -> JSON? {
        guard let (symbol, amount) = validInput(c),
            let (status, r) = try callFolded(
                tx, c, "SELECT * FROM classic_set_buy_amount($1, $2::BIGINT, $3, $4, $5)", [symbol, amount])
        else { return nil }
        let user = try c.requireUser()
        let cash = r.int64(0, 1) ?? 0
        let existed = r.bool(0, 2) == true
        let delta = amount - (r.int64(0, 3) ?? 0)
        switch status {
        case "OK": break
        case "INSUFFICIENT_FUNDS": throw Self.insufficientForAmount(cash: cash, amount: amount, delta: delta, existed)
        default: throw unexpected(status, c)
        }
        if delta > 0 { c.account("remove", delta, user: user) }
        if delta < 0 { c.account("add", -delta, user: user) }
        return triggerJSON(
            symbol, amount: amount, price: r.int64(0, 4),
            extra: [("reserved", money(amount)), ("cash", money(cash - delta))], txn: c.txn)
    }

    func setBuyTriggerFolded(_ tx: PGConnection, _ c: inout CommandContext) throws -> JSON? {
        guard let (symbol, price) = validInput(c),
            let (status, r) = try callFolded(
                tx, c, "SELECT * FROM classic_set_buy_trigger($1, $2::BIGINT, $3, $4, $5, $6)", [symbol, price, c.txn])
        else { return nil }
        let amount = r.int64(0, 1) ?? 0
        let reserved = r.int64(0, 2) ?? 0
        switch status {
        case "OK": break
        case "NO_AMOUNT": throw noAmount(.buy, symbol)
        case "ZERO_SHARES": throw Self.triggerAboveReserve(price: price, reserved: reserved)
        default: throw unexpected(status, c)
        }
        return triggerJSON(symbol, amount: amount, price: price, extra: [("reserved", money(reserved))], txn: c.txn)
    }

    func cancelSetFolded(_ tx: PGConnection, _ c: inout CommandContext, side: Side) throws -> JSON? {
        guard folded, let symbol = ClassicInput.symbol(c.request.stock),
            let (status, r) = try callFolded(
                tx, c, "SELECT * FROM classic_cancel_set($1, $2::BIGINT, $3, $4, $5::CHAR(1))",
                [symbol, side.rawValue])
        else { return nil }
        switch status {
        case "OK": break
        case "NO_AMOUNT": throw noAmount(side, symbol)
        default: throw unexpected(status, c)
        }
        let user = try c.requireUser()
        let cash = r.int64(0, 1) ?? 0
        let amount = r.int64(0, 2) ?? 0
        let price = r.int64(0, 3)
        if side == .buy {
            let reserved = r.int64(0, 4) ?? 0
            if reserved > 0 { c.account("add", reserved, user: user) }
            return triggerJSON(
                symbol, amount: amount, price: price,
                extra: [("released", money(reserved)), ("cash", money(cash + reserved))], txn: c.txn)
        }
        return triggerJSON(
            symbol, amount: amount, price: price, extra: [("releasedShares", .int(r.int64(0, 5) ?? 0))], txn: c.txn)
    }

    func setSellAmountFolded(_ tx: PGConnection, _ c: inout CommandContext) throws -> JSON? {
        guard let (symbol, amount) = validInput(c),
            let (status, r) = try callFolded(
                tx, c, "SELECT * FROM classic_set_sell_amount($1, $2::BIGINT, $3, $4, $5)", [symbol, amount])
        else { return nil }
        let user = try c.requireUser()
        let price = r.int64(0, 2)
        let free = r.int64(0, 3) ?? 0
        let reservedShares = r.int64(0, 4) ?? 0
        switch status {
        case "OK": break
        case "NOT_OWNED": throw ClassicError(.NOT_OWNED, "\(user) holds no \(symbol) shares")
        case "ZERO_SHARES":
            throw ClassicError(
                .ZERO_SHARES,
                "amount \(Money.format(amount)) buys 0 shares at the trigger price \(Money.format(price ?? 0))")
        case "INSUFFICIENT_SHARES":
            throw Self.sharesToReserve(available: free + reservedShares, symbol, want: amount / max(1, price ?? 1))
        default: throw unexpected(status, c)
        }
        return triggerJSON(
            symbol, amount: amount, price: price, extra: [("reservedShares", .int(reservedShares))], txn: c.txn)
    }

    func setSellTriggerFolded(_ tx: PGConnection, _ c: inout CommandContext) throws -> JSON? {
        guard let (symbol, price) = validInput(c),
            let (status, r) = try callFolded(
                tx, c, "SELECT * FROM classic_set_sell_trigger($1, $2::BIGINT, $3, $4, $5, $6)", [symbol, price, c.txn])
        else { return nil }
        let amount = r.int64(0, 1) ?? 0
        let want = amount / price
        switch status {
        case "OK": break
        case "NO_AMOUNT": throw noAmount(.sell, symbol)
        case "ZERO_SHARES":
            throw ClassicError(
                .ZERO_SHARES,
                "amount \(Money.format(amount)) reserves 0 shares at trigger price \(Money.format(price))")
        case "INSUFFICIENT_SHARES":
            throw Self.sharesToReserve(
                available: (r.int64(0, 2) ?? 0) + (r.int64(0, 3) ?? 0), symbol, want: want)
        default: throw unexpected(status, c)
        }
        return triggerJSON(symbol, amount: amount, price: price, extra: [("reservedShares", .int(want))], txn: c.txn)
    }

    static func insufficientForAmount(cash: Int64, amount: Int64, delta: Int64, _ existed: Bool) -> ClassicError {
        let need = existed ? "increase \(Money.format(delta))" : "amount \(Money.format(amount))"
        return ClassicError(.INSUFFICIENT_FUNDS, "cash \(Money.format(cash)) < \(need)")
    }

    static func triggerAboveReserve(price: Int64, reserved: Int64) -> ClassicError {
        ClassicError(
            .ZERO_SHARES,
            "trigger price \(Money.format(price)) is above the reserved \(Money.format(reserved)): it could never buy a share"
        )
    }

    static func sharesToReserve(available: Int64, _ symbol: String, want: Int64) -> ClassicError {
        ClassicError(.INSUFFICIENT_SHARES, "\(available) \(symbol) shares available < \(want) to reserve")
    }
}
