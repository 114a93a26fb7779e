import Ledger
import ServiceCore

// Amended orders: a new total quantity and limit price, and a new seq when the amend cost the
// order its time priority. Written after the batch's new rows (an order placed and amended in the
// same batch ends up amended) and before the older parents' remaining/status (whose average price,
// once completed, is over the amended quantity). A parent already COMPLETED here (placed in this
// batch, its average price set) keeps that price.
extension BatchJournal {
    struct Amend {
        var quantity: Int64
        var priceCents: Int64
        /// New time priority (nil: kept).
        var seq: Int64?
    }

    func amendOrder(id: Int64, quantity: Int64, priceCents: Int64, seq: Int64?) {
        let earlier = amends[id]
        amends[id] = Amend(quantity: quantity, priceCents: priceCents, seq: seq ?? earlier?.seq)
    }

    /// Total quantity of an order as this batch leaves it, if the batch placed or amended it.
    func pendingQuantity(_ id: Int64) -> Int64? {
        amends[id]?.quantity ?? txRows.last { $0.id == id }?.quantity
    }

    func writeAmends() throws {
        guard !amends.isEmpty else { return }
        let ids = Array(amends.keys)
        let rows = ids.map { amends[$0] }
        try db.query(
            """
            UPDATE stock_transactions t SET quantity = d.q, seq = COALESCE(d.s, t.seq),
                price_cents = CASE WHEN t.status = 'COMPLETED' THEN t.price_cents ELSE d.p END
            FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[]) AS d(id, q, p, s) WHERE t.id = d.id
            """,
            [
                SQLArray.ints(ids), SQLArray.ints(rows.map { $0?.quantity ?? 0 }),
                SQLArray.ints(rows.map { $0?.priceCents ?? 0 }), SQLArray.optionalInts(rows.map { $0?.seq }),
            ])
    }
}
