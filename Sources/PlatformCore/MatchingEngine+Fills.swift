import OrderBook
import ServiceCore

// Ledger rows and money moves of fills, shared by new orders (record), amends and cancels.
extension MatchingEngine {
    /// The maker side of every fill: a child transaction with its own wallet transaction, the
    /// maker's new remaining/status, and its cash and shares.
    func recordMakerFills(_ fills: [Fill], takerIsBuy: Bool, stockId: Int64, now: Int64, _ j: BatchJournal) throws {
        let db = j.db
        for f in fills {
            let child = try nextId(db)
            let wallet = try nextId(db)
            j.addTransaction(
                .init(
                    id: child, userId: f.makerOwner, stockId: stockId, parentId: f.makerOrderId,
                    walletTxId: wallet, status: .completed, isBuy: !takerIsBuy, type: .limit,
                    priceCents: f.price, quantity: f.quantity, remaining: 0, millis: now))
            j.addWallet(
                .init(
                    id: wallet, userId: f.makerOwner, stockTxId: child, isDebit: !takerIsBuy,
                    cents: f.notional, millis: now))
            j.setOrderState(
                id: f.makerOrderId, remaining: f.makerRemaining,
                status: f.makerRemaining == 0 ? .completed : .partiallyComplete, owner: f.makerOwner,
                filledCents: f.notional)
            j.events.trades.append(.init(stockId: stockId, priceCents: f.price, quantity: f.quantity, millis: now))
            if f.makerRemaining == 0 { restingStock[f.makerOrderId] = nil }
            // The maker's headroom becomes the cash or shares it reserved them for.
            if takerIsBuy {
                j.addCash(f.makerOwner, cash: f.notional, incoming: -f.notional)
                j.addShares(f.makerOwner, stockId: stockId, reserved: -f.quantity)
            } else {
                j.addShares(f.makerOwner, stockId: stockId, quantity: f.quantity, incoming: -f.quantity)
                j.addCash(f.makerOwner, reserved: -f.notional)
            }
        }
    }

    /// One child transaction (with its wallet transaction) of the taker per fill.
    func recordTakerChildren(
        _ fills: [Fill], takerId: Int64, userId: Int64, stockId: Int64, isBuy: Bool,
        type: OrderType, now: Int64, _ j: BatchJournal
    ) throws {
        let db = j.db
        for f in fills {
            let child = try nextId(db)
            let wallet = try nextId(db)
            j.addTransaction(
                .init(
                    id: child, userId: userId, stockId: stockId, parentId: takerId, walletTxId: wallet,
                    status: .completed, isBuy: isBuy, type: type, priceCents: f.price,
                    quantity: f.quantity, remaining: 0, millis: now))
            j.addWallet(
                .init(id: wallet, userId: userId, stockTxId: child, isDebit: isBuy, cents: f.notional, millis: now))
        }
    }

    /// Money of a limit taker's fills: a buyer gets the shares (out of its headroom), the filled
    /// part's escrow (filled × limit) is released and the price improvement refunded; a seller's
    /// escrowed shares go, the proceeds arrive, and its headroom shrinks from `proceedsBound` to
    /// what the `remaining` part can still earn at its limit.
    func settleLimitTaker(
        _ userId: Int64, stockId: Int64, isBuy: Bool, limit: Int64, filled: Int64, cost: Int64,
        remaining: Int64, proceedsBound: Int64, _ j: BatchJournal
    ) {
        if isBuy {
            j.addShares(userId, stockId: stockId, quantity: filled, incoming: -filled)
            j.addCash(userId, cash: filled * limit - cost, reserved: -(filled * limit))
        } else {
            j.addShares(userId, stockId: stockId, reserved: -filled)
            j.addCash(userId, cash: cost, incoming: remaining * limit - proceedsBound)
        }
    }

    /// Closes an order's unfilled part (cancel, IOC remainder): status CANCELLED with the
    /// unfilled quantity kept as `remaining`, its escrow back to the owner and its headroom freed.
    func releaseUnfilled(
        orderId: Int64, userId: Int64, stockId: Int64, isBuy: Bool, remaining: Int64, price: Int64,
        _ j: BatchJournal
    ) {
        j.setOrderState(id: orderId, remaining: remaining, status: .cancelled, owner: userId)
        j.events.touchedStocks.insert(stockId)
        if isBuy {
            let amount = remaining * price
            j.addCash(userId, cash: amount, reserved: -amount)
            j.addShares(userId, stockId: stockId, incoming: -remaining)
        } else {
            j.addShares(userId, stockId: stockId, quantity: remaining, reserved: -remaining)
            j.addCash(userId, incoming: -(remaining * price))
        }
    }
}
