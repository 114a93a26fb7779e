// Internal storage: resting orders live in one array-backed pool and are chained into per-level
// FIFO lists by Int32 links (no object per order, no ARC traffic); each side keeps its price
// levels in one sorted array with the best level last, so the hot end is cheap to pop and grow.

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
    var side: Side

    init(id: Int64, owner: Int64, remaining: Int64, price: Int64, sequence: UInt64, prev: Int32, next: Int32, side: Side) {
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
    /// Sort key, ascending with the best level last: price for bids, −price for asks.
    var key: Int64
    var price: Int64
    var volume: Int64
    var head: Int32
    var tail: Int32
    var count: Int32
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
        self.owners = 0
    }
}

struct BookSide: Sendable {
    var levels: [Level] = []
    var volume: Int64 = 0
    var orderCount: Int = 0
    /// +1 for bids, −1 for asks: key = price × sign.
    let sign: Int64

    init(sign: Int64) {
        self.sign = sign
        levels.reserveCapacity(16)
    }

    /// Index of the first level whose key is ≥ `key` (levels.count if none).
    /// Searches from the best end first, since nearly all activity is near the top.
    func lowerBound(_ key: Int64) -> Int {
        var hi = levels.count
        var lo = 0
        // Fast path: the touched level is usually one of the top few.
        if hi > 0 && levels[hi - 1].key < key { return hi }
        while lo < hi {
            let mid = (lo &+ hi) >> 1
            if levels[mid].key < key { lo = mid &+ 1 } else { hi = mid }
        }
        return lo
    }

    func levelIndex(price: Int64) -> Int? {
        let key = price &* sign
        let i = lowerBound(key)
        return i < levels.count && levels[i].key == key ? i : nil
    }
}

/// The order pool, its free list and the id index.
struct OrderStore: Sendable {
    var nodes: [Node] = []
    var freeHead: Int32 = nilSlot
    var index: OrderIndex

    init(expectedOrders: Int) {
        let expected = min(max(expectedOrders, 1), 1 << 20)  // a hint (beyond it the book just grows)
        nodes.reserveCapacity(expected)
        index = OrderIndex(minimumCapacity: expected)
    }

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

    mutating func release(_ slot: Int32) {
        nodes[Int(slot)].next = freeHead
        nodes[Int(slot)].remaining = 0
        freeHead = slot
    }

    /// Appends a node at the tail of a level (newest = lowest priority).
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
        if after == level.tail { append(slot, to: &level); return }
        let before = after == nilSlot ? level.head : nodes[Int(after)].next
        nodes[Int(slot)].prev = after
        nodes[Int(slot)].next = before
        nodes[Int(before)].prev = slot
        if after == nilSlot { level.head = slot } else { nodes[Int(after)].next = slot }
    }

    mutating func unlink(_ slot: Int32, from level: inout Level) {
        let prev = nodes[Int(slot)].prev
        let next = nodes[Int(slot)].next
        if prev == nilSlot { level.head = next } else { nodes[Int(prev)].next = next }
        if next == nilSlot { level.tail = prev } else { nodes[Int(next)].prev = prev }
    }
}
