import OrderBook

// One lock order for accounts, shared with the classic path (which locks a batch's accounts in
// ascending user id before anything else): an engine batch first locks, in ascending id, every
// account the books say it can touch. Taken as the commands came (a buyer's escrow, then the
// makers' proceeds at the end), an engine batch and a classic batch could each hold an account
// the other waited for; PostgreSQL then aborted one of them after deadlock_timeout, and an
// aborted engine batch rebuilt its books from the ledger before running again.
extension MatchingEngine {
    /// Orders walked per stock and side when looking for the makers a batch could meet; past it
    /// the rest of the makers are locked when reached, as before (a deadlock is then still
    /// possible and handled by the retry in `process`).
    static let lockAheadMaxOrders = 512

    /// The accounts the batch can touch, as far as the books tell before it runs: the users who
    /// sent its commands, and the owners of the resting orders that their orders (new ones, and
    /// amended ones, which may trade at once) could fill against, whatever their prices.
    func accountsAhead(_ batch: [Ticket]) -> Set<Int64> {
        var users: Set<Int64> = []
        var takers: [TakerKey: Int64] = [:]
        func want(_ stockId: Int64, _ isBuy: Bool, _ quantity: Int64) {
            let key = TakerKey(stockId: stockId, isBuy: isBuy)
            let (sum, overflow) = takers[key, default: 0].addingReportingOverflow(max(quantity, 0))
            takers[key] = overflow ? .max : sum
        }
        for t in batch {
            switch t.command {
            case .place(let userId, let order, _):
                users.insert(userId)
                want(order.stockId, order.isBuy, order.quantity)
            case .amend(let userId, let a, _):
                users.insert(userId)
                if let stockId = restingStock[a.stockTxId], let old = stocks[stockId]?.book.order(id: a.stockTxId) {
                    // The new total includes the filled part: an upper bound of what it can take.
                    want(stockId, old.side == .buy, max(a.quantity ?? 0, old.remaining))
                }
            case .cancel(let userId, _, _), .deposit(let userId, _, _):
                users.insert(userId)
            case .reset, .inspect:
                break
            }
        }
        var accounts = users
        for (key, quantity) in takers {
            guard let st = stocks[key.stockId] else { continue }
            _ = st.book.reachableOwners(
                taker: key.isBuy ? .buy : .sell, quantity: quantity, uncounted: users,
                maxOrders: Self.lockAheadMaxOrders, into: &accounts)
        }
        return accounts
    }
}

private struct TakerKey: Hashable {
    let stockId: Int64
    let isBuy: Bool
}
