// Changing resting orders: cancel, amend, the start-up restore, and the low-level rest/remove
// they share with submit.

extension OrderBook {
    /// Removes a resting order and returns it as it was (its `remaining` is the unfilled part,
    /// which is what the caller un-escrows).
    @discardableResult
    public mutating func cancel(orderId: Int64, owner: Int64) throws(OrderBookError) -> RestingOrder {
        let (slot, node) = try owned(orderId, by: owner)
        removeResting(slot, node)
        return Self.resting(node)
    }

    /// `amend` returning its fills in a new array (allocates; the engine passes its own buffer).
    public mutating func amend(
        orderId: Int64, owner: Int64, quantity: Int64? = nil, price: Int64? = nil,
        sequence: UInt64? = nil
    ) throws(OrderBookError) -> AmendResult {
        var fills: [Fill] = []
        let report = try amend(
            orderId: orderId, owner: owner, quantity: quantity, price: price, sequence: sequence,
            fills: &fills)
        return AmendResult(report: report, fills: fills)
    }

    /// Changes a resting order's remaining quantity and/or price (nil = unchanged). Lowering the
    /// quantity at the same price keeps the order's place; anything else sends it to the back at
    /// its new price (a new sequence: `sequence` or the book's own), where it may trade at once
    /// like a new GTC limit order (self-trade prevention applies). On error nothing changes.
    public mutating func amend(
        orderId: Int64, owner: Int64, quantity: Int64? = nil, price: Int64? = nil,
        sequence: UInt64? = nil, fills: inout [Fill]
    ) throws(OrderBookError) -> AmendReport {
        let (slot, node) = try owned(orderId, by: owner)
        let newQuantity = quantity ?? node.remaining
        let newPrice = price ?? node.price
        guard newQuantity > 0 else { throw .invalidQuantity }
        guard newPrice > 0 else { throw .invalidPrice }
        let previous = Self.resting(node)
        if newPrice == node.price && newQuantity <= node.remaining {
            let cut = node.remaining &- newQuantity
            store.nodes[Int(slot)].remaining = newQuantity
            if node.side == .buy {
                Self.shrink(node.level, by: cut, on: &bids)
            } else {
                Self.shrink(node.level, by: cut, on: &asks)
            }
            let report = SubmitReport(
                outcome: .rested(remaining: newQuantity), filledQuantity: 0, cost: 0,
                sequence: node.sequence)
            return AmendReport(previous: previous, report: report, keptPriority: true)
        }
        if let s = sequence, s < nextSequence { throw .sequenceOutOfOrder }
        // Validated as the new order it becomes, with its old remainder already off the side.
        let others = (node.side == .buy ? bids.volume : asks.volume) &- node.remaining
        if let e = limitViolation(node.side, quantity: newQuantity, price: newPrice, resting: others) { throw e }
        // Off its level but still indexed: if it rests again it reuses its slot.
        if node.side == .buy {
            Self.detach(slot, on: &bids, store: &store)
        } else {
            Self.detach(slot, on: &asks, store: &store)
        }
        let order = Order.limit(id: node.id, owner: node.owner, side: node.side, quantity: newQuantity, price: newPrice)
        let report = submitLimit(order, sequence: sequence, fills: &fills, existing: slot)
        return AmendReport(previous: previous, report: report, keptPriority: false)
    }

    /// Puts a resting order back (start-up rebuild from the ledger) at its original time priority.
    /// No matching happens: the book mirrors what the ledger says was resting. Orders may come in
    /// any order, though sequence order makes each insert O(1).
    public mutating func restore(_ order: RestingOrder) throws(OrderBookError) {
        guard order.remaining > 0 else { throw .invalidQuantity }
        guard order.price > 0 else { throw .invalidPrice }
        guard store.index.find(order.id) == nil else { throw .duplicateOrderId }
        guard !order.remaining.multipliedReportingOverflow(by: order.price).overflow,
            !(order.side == .buy ? bids.volume : asks.volume).addingReportingOverflow(order.remaining).overflow
        else { throw .overflow }
        let node = Node(
            id: order.id, owner: order.owner, remaining: order.remaining, price: order.price,
            sequence: order.sequence, prev: nilSlot, next: nilSlot, side: order.side)
        if order.side == .buy {
            Self.rest(node, on: &bids, store: &store, bySequence: true)
        } else {
            Self.rest(node, on: &asks, store: &store, bySequence: true)
        }
        if order.sequence >= nextSequence { nextSequence = order.sequence &+ 1 }
    }

    // MARK: - Internals

    private func owned(_ orderId: Int64, by owner: Int64) throws(OrderBookError) -> (Int32, Node) {
        guard let slot = store.index.find(orderId) else { throw .notFound }
        let node = store.nodes[Int(slot)]
        guard node.owner == owner else { throw .notOwner }
        return (slot, node)
    }

    private mutating func removeResting(_ slot: Int32, _ node: Node) {
        if node.side == .buy {
            Self.remove(slot, node, from: &bids, store: &store)
        } else {
            Self.remove(slot, node, from: &asks, store: &store)
        }
    }

    static func resting(_ node: Node) -> RestingOrder {
        RestingOrder(
            id: node.id, owner: node.owner, side: node.side, price: node.price,
            remaining: node.remaining, sequence: node.sequence)
    }

    private static func shrink(_ level: Int32, by cut: Int64, on side: inout BookSide) {
        side.levels[Int(level)].volume &-= cut
        side.volume &-= cut
    }

    static func rest(_ node: Node, on side: inout BookSide, store: inout OrderStore, bySequence: Bool) {
        let slot = store.allocate(node)
        attach(slot, on: &side, store: &store, bySequence: bySequence)
        store.index.insert(node.id, slot: slot)
    }

    static func remove(_ slot: Int32, _ node: Node, from side: inout BookSide, store: inout OrderStore) {
        detach(slot, on: &side, store: &store)
        store.index.remove(node.id)
        store.release(slot)
    }

    /// Links an allocated node into the level at its price (created if needed).
    static func attach(_ slot: Int32, on side: inout BookSide, store: inout OrderStore, bySequence: Bool) {
        let node = store.nodes[Int(slot)]
        let level = side.level(price: node.price)
        store.nodes[Int(slot)].level = level
        if bySequence {
            store.insertBySequence(slot, into: &side.levels[Int(level)])
        } else {
            store.append(slot, to: &side.levels[Int(level)])
        }
        side.levels[Int(level)].count &+= 1
        side.levels[Int(level)].volume &+= node.remaining
        side.levels[Int(level)].owners |= ownerBit(node.owner)
        side.volume &+= node.remaining
        side.orderCount &+= 1
    }

    /// Unlinks a node from its level (dropping the level if it empties); the node stays allocated.
    static func detach(_ slot: Int32, on side: inout BookSide, store: inout OrderStore) {
        let node = store.nodes[Int(slot)]
        let level = Int(node.level)
        store.unlink(slot, from: &side.levels[level])
        side.levels[level].count &-= 1
        side.levels[level].volume &-= node.remaining
        if side.levels[level].count == 0 { side.dropLevel(node.level) }
        side.volume &-= node.remaining
        side.orderCount &-= 1
    }
}
