// Internal storage: resting orders live in one array-backed pool and are chained into per-level
// FIFO lists by Int32 links (no object per order, no ARC traffic); each side's levels live in a
// pool, linked best to worst (BookSide), and every order knows its level's slot, so a cancel or
// amend reaches its level without a search.

let nilSlot: Int32 = -1

struct Node: Sendable {
    var id: Int64
    var owner: Int64
    var remaining: Int64
    var price: Int64
    var sequence: UInt64
    var prev: Int32
    /// Next order in the level, or the next free slot while the node is unused.
    var next: Int32
    /// Slot of the level it rests on (in its side's pool).
    var level: Int32 = nilSlot
    var side: Side

    init(
        id: Int64, owner: Int64, remaining: Int64, price: Int64, sequence: UInt64, prev: Int32, next: Int32, side: Side
    ) {
        self.id = id
        self.owner = owner
        self.remaining = remaining
        self.price = price
        self.sequence = sequence
        self.prev = prev
        self.next = next
        self.side = side
    }
}

/// Bit of an owner in a level's owner filter.
func ownerBit(_ owner: Int64) -> UInt64 {
    1 &<< ((UInt64(bitPattern: owner) &* 0x9E37_79B9_7F4A_7C15) >> 58)
}

struct Level: Sendable {
    /// Order key, larger is better: price for bids, −price for asks.
    var key: Int64
    var price: Int64
    var volume: Int64
    /// First order (or the next free level while this one is unused).
    var head: Int32
    var tail: Int32
    var count: Int32
    /// Neighbouring live levels of the side in key order.
    var better: Int32
    var worse: Int32
    /// Superset of the owners resting here (one hashed bit each, never cleared while the level
    /// lives): a clear bit proves the owner has nothing here, so a cost walk can take the
    /// whole level at once instead of visiting its orders to skip the owner's own.
    var owners: UInt64

    init(key: Int64, price: Int64) {
        self.key = key
        self.price = price
        self.volume = 0
        self.head = nilSlot
        self.tail = nilSlot
        self.count = 0
        self.better = nilSlot
        self.worse = nilSlot
        self.owners = 0
    }
}

/// The order pool, its free list and the id index.
struct OrderStore: Sendable {
    var nodes: [Node] = []
    var freeHead: Int32 = nilSlot
    var index: OrderIndex

    init(expectedOrders: Int) {
        let expected = min(max(expectedOrders, 1), 1 << 20) // a hint (beyond it the book just grows)
        nodes.reserveCapacity(expected)
        index = OrderIndex(minimumCapacity: expected)
    }

    @inline(__always)
    mutating func allocate(_ node: Node) -> Int32 {
        if freeHead != nilSlot {
            let slot = freeHead
            freeHead = nodes[Int(slot)].next
            nodes[Int(slot)] = node
            return slot
        }
        nodes.append(node)
        return Int32(truncatingIfNeeded: nodes.count &- 1)
    }

    @inline(__always)
    mutating func release(_ slot: Int32) {
        nodes[Int(slot)].next = freeHead
        nodes[Int(slot)].remaining = 0
        freeHead = slot
    }

    /// Appends a node at the tail of a level (newest = lowest priority).
    @inline(__always)
    mutating func append(_ slot: Int32, to level: inout Level) {
        nodes[Int(slot)].prev = level.tail
        nodes[Int(slot)].next = nilSlot
        if level.tail == nilSlot { level.head = slot } else { nodes[Int(level.tail)].next = slot }
        level.tail = slot
    }

    /// Inserts a node after all nodes of the level with a sequence ≤ its own (restore path).
    mutating func insertBySequence(_ slot: Int32, into level: inout Level) {
        let sequence = nodes[Int(slot)].sequence
        var after = level.tail
        while after != nilSlot && nodes[Int(after)].sequence > sequence { after = nodes[Int(after)].prev }
        if after == level.tail {
            append(slot, to: &level)
            return
        }
        let before = after == nilSlot ? level.head : nodes[Int(after)].next
        nodes[Int(slot)].prev = after
        nodes[Int(slot)].next = before
        nodes[Int(before)].prev = slot
        if after == nilSlot { level.head = slot } else { nodes[Int(after)].next = slot }
    }

    @inline(__always)
    mutating func unlink(_ slot: Int32, from level: inout Level) {
        let prev = nodes[Int(slot)].prev
        let next = nodes[Int(slot)].next
        if prev == nilSlot { level.head = next } else { nodes[Int(prev)].next = next }
        if next == nilSlot { level.tail = prev } else { nodes[Int(next)].prev = prev }
    }
}
