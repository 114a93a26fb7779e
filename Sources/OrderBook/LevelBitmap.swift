// The price levels of a window of keys [base, base + 2^spanLog2): the level's pool slot per key
// (direct-mapped, no hashing on the hot path) and one bit per key in a three-level bitmap (a
// summary bit per non-empty word above), so the nearest level below or above a key is a few
// leading/trailing-zero counts — O(1) with hundreds of sparse levels, where sorted arrays shifted
// memory and searched with unpredictable branches. The window is sized and placed by BookSide;
// memory is 4.125 bytes per key (17 KiB for 4,096 ticks, 132 KiB for 32,768).

struct LevelBitmap: Sendable {
    static let minSpanLog2 = 10
    static let maxSpanLog2 = 17

    private(set) var base: Int64 = 0
    private(set) var spanLog2 = 0 // 0: no window yet
    private(set) var span: Int64 = 0
    private var l0: [UInt64] = [] // bit per key
    private var l1: [UInt64] = [] // bit per non-zero l0 word
    private var l2: UInt64 = 0 // bit per non-zero l1 word
    private var slots: [Int32] = [] // level slot per key, nilSlot where none
    /// Keys currently set.
    private(set) var count = 0

    /// Offset of `key` in the window, or nil outside it.
    @inline(__always)
    func offset(_ key: Int64) -> Int? {
        let (d, overflow) = key.subtractingReportingOverflow(base)
        return !overflow && d >= 0 && d < span ? Int(d) : nil
    }

    func key(_ offset: Int) -> Int64 { base &+ Int64(offset) }

    /// Empties the bitmap and moves the window. A window of the same size is cleared in place
    /// (only the set keys' slots, found from the bits), so moving it allocates nothing.
    mutating func reset(base: Int64, spanLog2: Int) {
        self.base = base
        if spanLog2 == self.spanLog2 {
            for w in l0.indices where l0[w] != 0 {
                var bits = l0[w]
                while bits != 0 {
                    slots[w << 6 | bits.trailingZeroBitCount] = nilSlot
                    bits &= bits &- 1
                }
                l0[w] = 0
            }
            for g in l1.indices { l1[g] = 0 }
        } else {
            self.spanLog2 = spanLog2
            span = 1 << Int64(spanLog2)
            let words = 1 << (spanLog2 - 6)
            l0 = Array(repeating: 0, count: words)
            l1 = Array(repeating: 0, count: max(words >> 6, 1))
            slots = Array(repeating: nilSlot, count: 1 << spanLog2)
        }
        l2 = 0
        count = 0
    }

    /// The level at `offset`, or nilSlot.
    @inline(__always)
    func slot(_ offset: Int) -> Int32 { slots[offset] }

    @inline(__always)
    mutating func set(_ offset: Int, slot: Int32) {
        slots[offset] = slot
        let w = offset >> 6
        l0[w] |= 1 &<< UInt64(offset & 63)
        l1[w >> 6] |= 1 &<< UInt64(w & 63)
        l2 |= 1 &<< UInt64((w >> 6) & 63)
        count &+= 1
    }

    @inline(__always)
    mutating func clear(_ offset: Int) {
        slots[offset] = nilSlot
        let w = offset >> 6
        l0[w] &= ~(1 &<< UInt64(offset & 63))
        count &-= 1
        guard l0[w] == 0 else { return }
        l1[w >> 6] &= ~(1 &<< UInt64(w & 63))
        guard l1[w >> 6] == 0 else { return }
        l2 &= ~(1 &<< UInt64((w >> 6) & 63))
    }

    /// Largest set offset below `offset`.
    func below(_ offset: Int) -> Int? {
        let w = offset >> 6
        let m0 = l0[w] & ((1 as UInt64) << UInt64(offset & 63) &- 1)
        if m0 != 0 { return w << 6 | Self.highest(m0) }
        let g = w >> 6
        let m1 = l1[g] & ((1 as UInt64) << UInt64(w & 63) &- 1)
        if m1 != 0 { return lastIn(word: g << 6 | Self.highest(m1)) }
        let m2 = l2 & ((1 as UInt64) << UInt64(g) &- 1)
        if m2 != 0 {
            let g2 = Self.highest(m2)
            return lastIn(word: g2 << 6 | Self.highest(l1[g2]))
        }
        return nil
    }

    /// Smallest set offset above `offset`.
    func above(_ offset: Int) -> Int? {
        let w = offset >> 6
        let m0 = l0[w] & (~0 << UInt64(offset & 63 + 1))
        if m0 != 0 { return w << 6 | m0.trailingZeroBitCount }
        let g = w >> 6
        let m1 = l1[g] & (~0 << UInt64(w & 63 + 1))
        if m1 != 0 { return firstIn(word: g << 6 | m1.trailingZeroBitCount) }
        let m2 = l2 & (~0 << UInt64(g + 1))
        if m2 != 0 {
            let g2 = m2.trailingZeroBitCount
            return firstIn(word: g2 << 6 | l1[g2].trailingZeroBitCount)
        }
        return nil
    }

    private func lastIn(word w: Int) -> Int { w << 6 | Self.highest(l0[w]) }
    private func firstIn(word w: Int) -> Int { w << 6 | l0[w].trailingZeroBitCount }
    @inline(__always) private static func highest(_ x: UInt64) -> Int { 63 &- x.leadingZeroBitCount }
}
