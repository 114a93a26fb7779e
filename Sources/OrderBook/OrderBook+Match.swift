// Matching in one walk. The walk fills makers tentatively — it only lowers their `remaining` and
// records them beside the fills — so a fill-or-kill order that fails is undone by adding the
// quantities back, and one that succeeds is committed by unlinking exactly the makers it emptied.
// Nothing walks the book twice.

extension OrderBook {
    struct MatchTotals {
        var quantity: Int64
        var cost: Int64
        var lastPrice: Int64
        /// The cost stopped fitting Int64 (the walk was abandoned there).
        var overflow: Bool
    }

    /// Fills `taker` against `book` from the best level down while a level's key is ≥ `limitKey`
    /// (`.min` for market orders), skipping the taker's owner's orders.
    static func walk(
        taker: Order, limitKey: Int64, on book: borrowing BookSide, nodes: inout [Node],
        touched: inout [Int32], fills: inout [Fill]
    ) -> MatchTotals {
        var need = taker.quantity
        var cost: Int64 = 0
        var lastPrice: Int64 = 0
        var level = Int(book.best)
        while need > 0 && level >= 0 && book.levels[level].key >= limitKey {
            let price = book.levels[level].price
            var slot = book.levels[level].head
            while slot != nilSlot && need > 0 {
                let node = nodes[Int(slot)]
                if node.owner != taker.owner {
                    let q = min(need, node.remaining)
                    guard addNotional(q, price, to: &cost) else {
                        return MatchTotals(
                            quantity: taker.quantity &- need, cost: cost, lastPrice: lastPrice, overflow: true)
                    }
                    need &-= q
                    lastPrice = price
                    let left = node.remaining &- q
                    nodes[Int(slot)].remaining = left
                    fills.append(
                        Fill(
                            makerOrderId: node.id, makerOwner: node.owner, takerOrderId: taker.id,
                            price: price, quantity: q, makerRemaining: left))
                    touched.append(slot)
                }
                slot = node.next
            }
            level = Int(book.levels[level].worse)
        }
        return MatchTotals(quantity: taker.quantity &- need, cost: cost, lastPrice: lastPrice, overflow: false)
    }

    /// Undoes a walk: the makers get their quantities back and its fills are dropped.
    static func rollback(from start: Int, fills: inout [Fill], touched: inout [Int32], nodes: inout [Node]) {
        for i in 0..<touched.count {
            nodes[Int(touched[i])].remaining &+= fills[start &+ i].quantity
        }
        fills.removeSubrange(start...)
        touched.removeAll(keepingCapacity: true)
    }

    /// Makes a walk final: level and side totals drop, emptied makers and levels go.
    static func commit(
        from start: Int, fills: [Fill], touched: inout [Int32],
        book: inout BookSide, store: inout OrderStore
    ) {
        var taken: Int64 = 0
        for i in 0..<touched.count {
            let slot = touched[i]
            let q = fills[start &+ i].quantity
            let level = Int(store.nodes[Int(slot)].level)
            taken &+= q
            book.levels[level].volume &-= q
            guard store.nodes[Int(slot)].remaining == 0 else { continue }
            store.unlink(slot, from: &book.levels[level])
            book.levels[level].count &-= 1
            book.orderCount &-= 1
            store.index.remove(store.nodes[Int(slot)].id)
            store.release(slot)
            if book.levels[level].count == 0 { book.dropLevel(Int32(level)) }
        }
        book.volume &-= taken
        touched.removeAll(keepingCapacity: true)
    }

    /// What filling up to `quantity` from the best level down would yield, skipping `owner`'s
    /// orders; nil if the cost overflows Int64.
    static func walkCost(quantity: Int64, owner: Int64, on book: borrowing BookSide, nodes: [Node]) -> CostQuote? {
        var need = quantity
        var cost: Int64 = 0
        let bit = ownerBit(owner)
        var slot = book.best
        while need > 0 && slot != nilSlot {
            let level = book.levels[Int(slot)]
            if level.owners & bit == 0 {
                // The owner has nothing here: take the level's total at once.
                let q = min(need, level.volume)
                guard addNotional(q, level.price, to: &cost) else { return nil }
                need &-= q
            } else {
                var order = level.head
                while order != nilSlot && need > 0 {
                    let node = nodes[Int(order)]
                    if node.owner != owner {
                        let q = min(need, node.remaining)
                        guard addNotional(q, level.price, to: &cost) else { return nil }
                        need &-= q
                    }
                    order = node.next
                }
            }
            slot = level.worse
        }
        return CostQuote(fillable: quantity &- need, cost: cost)
    }

    /// cost += quantity × price, checked; false (cost unchanged) if either step overflows Int64.
    @inline(__always)
    static func addNotional(_ quantity: Int64, _ price: Int64, to cost: inout Int64) -> Bool {
        let (notional, o1) = quantity.multipliedReportingOverflow(by: price)
        let (sum, o2) = cost.addingReportingOverflow(notional)
        if o1 || o2 { return false }
        cost = sum
        return true
    }
}
