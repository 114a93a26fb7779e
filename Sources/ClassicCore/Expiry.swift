import Ledger
import ServiceCore

/// A pending BUY/SELL made at `t` is live for commands stamped < t + 60000 (spec §10.1).
/// Expiry releases what it held and logs it (§10.4): lazily inside any command of that user
/// (after its account row is locked) and by the sweeper, so reads never see a stale hold.
extension ClassicEngine {
    /// Releases every pending order of `userId` due at `now`. The caller holds the account lock.
    func expireDue(_ tx: PGConnection, userId: Int64, now: Int64, log: inout AuditBuffer) throws -> (
        buys: Int, sells: Int
    ) {
        // DELETE … RETURNING: whoever deletes the row releases it, so lazy expiry and the
        // sweepers of several services can never release one order twice.
        let r = try tx.query(
            """
            DELETE FROM classic_pending WHERE user_id = $1 AND expires_ms <= $2
            RETURNING id, side, stock_id, symbol, shares, held_cents, txn, username
            """, [userId, now])
        var rows:
            [(
                id: Int64, side: String, stockId: Int64, symbol: String, shares: Int64, held: Int64, txn: Int64,
                user: String
            )] = []
        for i in 0..<r.count {
            guard let id = r.int64(i, 0), let side = r.string(i, 1), let stockId = r.int64(i, 2),
                let symbol = r.string(i, 3),
                let shares = r.int64(i, 4), let held = r.int64(i, 5), let txn = r.int64(i, 6), let user = r.string(i, 7)
            else { continue }
            rows.append((id, side, stockId, symbol, shares, held, txn, user))
        }
        rows.sort { $0.id < $1.id }
        var cashBack: Int64 = 0
        var buys = 0
        var sells = 0
        for row in rows {
            let isBuy = row.side == Side.buy.rawValue
            log.append(
                AuditEntry(
                    kind: .systemEvent, timestamp: now, server: server, transactionNum: row.txn,
                    command: isBuy ? .CANCEL_BUY : .CANCEL_SELL, username: row.user,
                    stockSymbol: row.symbol, fundsCents: row.held))
            if isBuy {
                buys += 1
                cashBack += row.held
                log.append(.account("add", cents: row.held, user: row.user, at: now, server: server, txn: row.txn))
            } else {
                sells += 1
                try shiftReserved(tx, userId: userId, stockId: row.stockId, by: -row.shares)
            }
        }
        try shiftCash(tx, userId: userId, hold: -cashBack)
        return (buys, sells)
    }

    /// One sweep: releases every order due now, one transaction per user. Returns how many.
    @discardableResult
    public func sweepExpired(db: PGConnection, limit: Int = 500) throws -> Int {
        let now = clock.nowMillis()
        let due = try db.query(
            "SELECT DISTINCT user_id FROM classic_pending WHERE expires_ms <= $1 LIMIT $2", [now, limit])
        var released = 0
        for i in 0..<due.count {
            guard let userId = due.int64(i, 0) else { continue }
            released += try db.transaction { tx -> Int in
                try LedgerTx(tx).lockAccount(userId)
                // Applied and stamped under the lock (§10.4), ordered against the user's commands.
                let at = max(now, clock.nowMillis())
                var log = AuditBuffer()
                let n = try expireDue(tx, userId: userId, now: at, log: &log)
                try log.flush(tx)
                return n.buys + n.sells
            }
        }
        return released
    }
}
