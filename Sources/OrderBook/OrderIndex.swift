// Order id → pool slot. Open addressing with linear probing and backward-shift deletion:
// no tombstones, no per-entry allocation, one multiply to hash (cheaper than Dictionary's
// seeded SipHash on every submit and cancel).

struct OrderIndex: Sendable {
    struct Entry: Sendable {
        var key: Int64
        /// Pool slot, or -1 when the entry is empty.
        var slot: Int32

        init(key: Int64, slot: Int32) {
            self.key = key
            self.slot = slot
        }
    }

    var entries: [Entry]
    var mask: Int
    var shift: UInt64
    private(set) var count: Int = 0

    init(minimumCapacity: Int) {
        let wanted = min(max(minimumCapacity, 8), 1 << 30) * 2 // load factor ≤ 1/2
        var capacity = 16
        while capacity < wanted { capacity <<= 1 }
        entries = Array(repeating: Entry(key: 0, slot: -1), count: capacity)
        mask = capacity - 1
        shift = UInt64(64 - capacity.trailingZeroBitCount)
    }

    /// Fibonacci hashing: the top bits of key × 2^64/φ spread sequential ids evenly.
    func home(_ key: Int64) -> Int {
        Int(truncatingIfNeeded: (UInt64(bitPattern: key) &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }

    @inline(__always)
    func find(_ key: Int64) -> Int32? {
        var i = home(key)
        while true {
            let e = entries[i]
            if e.slot < 0 { return nil }
            if e.key == key { return e.slot }
            i = (i &+ 1) & mask
        }
    }

    /// Inserts a key known to be absent.
    @inline(__always)
    mutating func insert(_ key: Int64, slot: Int32) {
        if (count &+ 1) &* 2 > entries.count { grow() }
        var i = home(key)
        while entries[i].slot >= 0 { i = (i &+ 1) & mask }
        entries[i] = Entry(key: key, slot: slot)
        count &+= 1
    }

    /// Removes a key; returns its slot if it was present.
    @discardableResult
    mutating func remove(_ key: Int64) -> Int32? {
        var i = home(key)
        while true {
            let e = entries[i]
            if e.slot < 0 { return nil }
            if e.key == key { break }
            i = (i &+ 1) & mask
        }
        let removed = entries[i].slot
        // Backward shift: pull later members of the probe run into the hole when the hole lies
        // on the cyclic path from their home to their current position.
        var hole = i
        var j = (i &+ 1) & mask
        while entries[j].slot >= 0 {
            let h = home(entries[j].key)
            let distanceToJ = (j &- h) & mask
            let distanceToHole = (hole &- h) & mask
            if distanceToHole < distanceToJ {
                entries[hole] = entries[j]
                hole = j
            }
            j = (j &+ 1) & mask
        }
        entries[hole].slot = -1
        count &-= 1
        return removed
    }

    /// Empties the index, keeping its capacity.
    mutating func removeAll() {
        for i in entries.indices { entries[i].slot = -1 }
        count = 0
    }

    mutating func grow() {
        let old = entries
        let capacity = old.count * 2
        entries = Array(repeating: Entry(key: 0, slot: -1), count: capacity)
        mask = capacity - 1
        shift = UInt64(64 - capacity.trailingZeroBitCount)
        for e in old where e.slot >= 0 {
            var i = home(e.key)
            while entries[i].slot >= 0 { i = (i &+ 1) & mask }
            entries[i] = e
        }
    }
}
