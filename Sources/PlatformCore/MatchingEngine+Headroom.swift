import Ledger
import OrderBook
import ServiceCore

// Headroom (`incoming`): before an order can trade, the most it can ever bring its owner is
// reserved against the ledger's bounds — a sell's proceeds on the account, a buy's shares on the
// holding — with one conditional upsert that answers 400 when it does not fit. Fills, IOC
// remainders, cancels and amends then turn the reservation into cash or shares, or give it back.
extension MatchingEngine {
    static let holdingBound = Rejection(400, "the holding would exceed \(Limits.maxShares) shares")

    /// The most a sell of `quantity` can earn: at its limit, or more if it crosses better bids
    /// (a market sell has no limit: 0). Only when that simple bound is too large does a market
    /// sell's exact figure need a walk of the book (without the owner's own bids).
    func sellProceedsBound(_ quantity: Int64, limit: Int64, _ st: StockState, owner: Int64) throws -> Int64 {
        let (bound, overflow) = quantity.multipliedReportingOverflow(by: max(limit, st.book.bestBid?.price ?? 0))
        if !overflow && bound <= Limits.maxCents { return bound }
        if limit == 0, let quote = try? st.book.quoteCost(side: .sell, quantity: quantity, owner: owner),
            quote.cost <= Limits.maxCents
        {
            return quote.cost
        }
        throw Rejection(400, "order value is too large")
    }

    /// Reserves headroom for a sell's proceeds on the seller's account (locking it first).
    func reserveProceeds(_ userId: Int64, _ cents: Int64, _ j: BatchJournal) throws {
        try j.flushAccount(userId)
        guard try LedgerOps.reserveIncomingCash(j.db, userId: userId, cents: cents) else {
            throw Rejection(400, "the sale could take the balance past \(Money.format(Limits.maxCents))")
        }
    }

    /// Reserves headroom for a buy's shares on the holding (the caller locked the account first).
    func reserveShares(_ userId: Int64, stockId: Int64, _ shares: Int64, _ j: BatchJournal) throws {
        try j.flushHolding(userId, stockId: stockId)
        guard try LedgerOps.reserveIncomingShares(j.db, userId: userId, stockId: stockId, shares: shares) else {
            throw Self.holdingBound
        }
    }

    /// Locks the user's account row (if any) so holdings may be locked after it.
    func lockAccount(_ userId: Int64, _ j: BatchJournal) throws {
        try j.flushAccount(userId)
        try j.db.query("SELECT 1 FROM accounts WHERE user_id = $1 FOR UPDATE", [userId])
    }

    /// Grows an order's headroom by `delta` (conditional, may answer 400), or shrinks it through
    /// the journal when `delta` is negative.
    func adjustHeadroom(_ userId: Int64, stockId: Int64, isBuy: Bool, _ delta: Int64, _ j: BatchJournal) throws {
        if delta > 0 {
            if isBuy {
                try reserveShares(userId, stockId: stockId, delta, j)
            } else {
                try reserveProceeds(userId, delta, j)
            }
        } else if delta < 0 {
            releaseHeadroom(userId, stockId: stockId, isBuy: isBuy, -delta, j)
        }
    }

    /// Gives back `amount` of headroom (shares for a buy, cents for a sell) through the journal.
    func releaseHeadroom(_ userId: Int64, stockId: Int64, isBuy: Bool, _ amount: Int64, _ j: BatchJournal) {
        if isBuy {
            j.addShares(userId, stockId: stockId, incoming: -amount)
        } else {
            j.addCash(userId, incoming: -amount)
        }
    }
}
