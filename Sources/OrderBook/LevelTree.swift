// The ordered set of one side's price levels: keys (price × sign, best = largest) with the pool
// slot of each level, kept in blocks of up to 64 sorted entries, the blocks themselves in key
// order. A two-level B-tree in effect: with hundreds of sparse levels an insert or removal
// shifts at most one block (≤ 768 bytes) and a search is two short binary searches, where one
// sorted array shifted half the side. Freed blocks are reused, so steady state never allocates.

struct LevelTree: Sendable {
    static let blockCapacity = 64

    /// Entries of block b live at b × 64 ..< b × 64 + counts[b].
    var keys: [Int64] = []
    var slots: [Int32] = []
    var counts: [Int32] = []
    /// Block numbers in ascending key order; every listed block is non-empty.
    var order: [Int32] = []
    var freeBlocks: [Int32] = []
    private(set) var count = 0

    /// Where a key is or would go: `position` in `order` and the index inside that block.
    struct Cursor: Sendable {
        var position: Int
        var index: Int
    }

    @inline(__always) func block(_ position: Int) -> Int { Int(order[position]) }
    @inline(__always) func base(_ position: Int) -> Int { block(position) &* Self.blockCapacity }
    @inline(__always) func size(_ position: Int) -> Int { Int(counts[block(position)]) }

    func key(at c: Cursor) -> Int64 { keys[base(c.position) &+ c.index] }
    func slot(at c: Cursor) -> Int32 { slots[base(c.position) &+ c.index] }

    /// The largest entry (the best level), if any.
    var last: Cursor? {
        order.isEmpty ? nil : Cursor(position: order.count &- 1, index: size(order.count &- 1) &- 1)
    }

    /// The entry before `c` in key order (the next worse level), if any.
    func previous(_ c: Cursor) -> Cursor? {
        if c.index > 0 { return Cursor(position: c.position, index: c.index &- 1) }
        if c.position == 0 { return nil }
        return Cursor(position: c.position &- 1, index: size(c.position &- 1) &- 1)
    }

    /// Position of `key` if present, else where it would be inserted (found = false).
    func search(_ key: Int64) -> (cursor: Cursor, found: Bool) {
        if order.isEmpty { return (Cursor(position: 0, index: 0), false) }
        // First block whose last key is ≥ key; past every block, the key goes at the very end.
        var lo = 0
        var hi = order.count
        while lo < hi {
            let mid = (lo &+ hi) >> 1
            if keys[base(mid) &+ size(mid) &- 1] < key { lo = mid &+ 1 } else { hi = mid }
        }
        if lo == order.count {
            let p = order.count &- 1
            return (Cursor(position: p, index: size(p)), false)
        }
        let b = base(lo)
        var l = 0
        var h = size(lo)
        while l < h {
            let mid = (l &+ h) >> 1
            if keys[b &+ mid] < key { l = mid &+ 1 } else { h = mid }
        }
        return (Cursor(position: lo, index: l), keys[b &+ l] == key)
    }

    /// Inserts an absent key where `search` said it goes.
    mutating func insert(_ key: Int64, slot: Int32, at c: Cursor) {
        count &+= 1
        if order.isEmpty {
            order.append(newBlock())
            put(key, slot, block: Int(order[0]), index: 0)
            return
        }
        var position = c.position
        var index = c.index
        if size(position) == Self.blockCapacity {
            // Split the full block: its upper half moves to a new block right after it.
            let half = Self.blockCapacity / 2
            let from = block(position)
            let to = Int(newBlock())
            for i in 0..<half {
                keys[to &* Self.blockCapacity &+ i] = keys[from &* Self.blockCapacity &+ half &+ i]
                slots[to &* Self.blockCapacity &+ i] = slots[from &* Self.blockCapacity &+ half &+ i]
            }
            counts[from] = Int32(half)
            counts[to] = Int32(half)
            order.insert(Int32(to), at: position &+ 1)
            if index > half { position &+= 1; index &-= half }
        }
        put(key, slot, block: block(position), index: index)
    }

    /// Removes the entry at `c`.
    mutating func remove(at c: Cursor) {
        count &-= 1
        let b = block(c.position)
        let n = Int(counts[b])
        let start = b &* Self.blockCapacity
        keys.withUnsafeMutableBufferPointer { k in
            slots.withUnsafeMutableBufferPointer { s in
                var i = c.index
                while i < n &- 1 {
                    k[start &+ i] = k[start &+ i &+ 1]
                    s[start &+ i] = s[start &+ i &+ 1]
                    i &+= 1
                }
            }
        }
        counts[b] = Int32(n &- 1)
        if n == 1 {
            order.remove(at: c.position)
            freeBlocks.append(Int32(b))
        }
    }

    private mutating func put(_ key: Int64, _ slot: Int32, block b: Int, index: Int) {
        let n = Int(counts[b])
        let start = b &* Self.blockCapacity
        keys.withUnsafeMutableBufferPointer { k in
            slots.withUnsafeMutableBufferPointer { s in
                var i = n
                while i > index {
                    k[start &+ i] = k[start &+ i &- 1]
                    s[start &+ i] = s[start &+ i &- 1]
                    i &-= 1
                }
                k[start &+ index] = key
                s[start &+ index] = slot
            }
        }
        counts[b] = Int32(n &+ 1)
    }

    private mutating func newBlock() -> Int32 {
        if let b = freeBlocks.popLast() {
            counts[Int(b)] = 0
            return b
        }
        let b = Int32(counts.count)
        counts.append(0)
        keys.append(contentsOf: repeatElement(0, count: Self.blockCapacity))
        slots.append(contentsOf: repeatElement(nilSlot, count: Self.blockCapacity))
        return b
    }

    /// Level slots from the best down (for read-only views).
    func slotsBestFirst() -> [Int32] {
        var out: [Int32] = []
        out.reserveCapacity(count)
        var c = last
        while let cur = c {
            out.append(slot(at: cur))
            c = previous(cur)
        }
        return out
    }
}
