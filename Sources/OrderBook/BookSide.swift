// One side's price levels: a pool of levels linked from best to worst, and a LevelBitmap over a
// window of keys (level per key, and the nearest level to place a new one by). Matching and the
// read views just follow the links, so every operation is O(1) while the side's levels span less
// than 2^16 ticks. Levels outside the window (far outliers) are found through a hash and placed
// by walking the links — correct at any price, only slower.

struct BookSide: Sendable {
    var levels: [Level] = []
    var freeLevel: Int32 = nilSlot
    /// Level key → pool slot of the live levels outside the window.
    var byKey = OrderIndex(minimumCapacity: 8)
    var map = LevelBitmap()
    var best: Int32 = nilSlot
    var worst: Int32 = nilSlot
    var volume: Int64 = 0
    var orderCount: Int = 0
    /// +1 for bids, −1 for asks: key = price × sign, so larger keys are better on both sides.
    let sign: Int64

    init(sign: Int64) {
        self.sign = sign
    }

    var levelCount: Int { map.count &+ byKey.count }

    var bestPrice: Int64? { best == nilSlot ? nil : levels[Int(best)].price }

    /// Slot of the level at `price`, created (empty) if there is none.
    mutating func level(price: Int64) -> Int32 {
        let key = price &* sign
        let offset = map.offset(key)
        if let offset {
            let slot = map.slot(offset)
            if slot != nilSlot { return slot }
        } else if let slot = byKey.find(key) {
            return slot
        }
        let slot: Int32
        if freeLevel != nilSlot {
            slot = freeLevel
            freeLevel = levels[Int(slot)].head
            levels[Int(slot)] = Level(key: key, price: price)
        } else {
            slot = Int32(truncatingIfNeeded: levels.count)
            levels.append(Level(key: key, price: price))
        }
        link(slot, after: levelAbove(key))
        if let offset {
            map.set(offset, slot: slot)
        } else if !moveWindow(toward: key) {
            byKey.insert(key, slot: slot)
        }
        return slot
    }

    /// Drops an empty level.
    mutating func dropLevel(_ slot: Int32) {
        let level = levels[Int(slot)]
        if level.better == nilSlot { best = level.worse } else { levels[Int(level.better)].worse = level.worse }
        if level.worse == nilSlot { worst = level.better } else { levels[Int(level.worse)].better = level.better }
        if let offset = map.offset(level.key) { map.clear(offset) } else { byKey.remove(level.key) }
        levels[Int(slot)].head = freeLevel
        freeLevel = slot
    }

    /// The live level with the smallest key above `key` (nil: the new level will be the best).
    private func levelAbove(_ key: Int64) -> Int32? {
        if best == nilSlot || levels[Int(best)].key < key { return nil }
        if levels[Int(worst)].key > key { return worst }
        // Strictly inside the side: ask the bitmap for an in-window neighbour. Outliers lie
        // outside the window, so none can sit between the key and an in-window neighbour.
        if let offset = map.offset(key) {
            if let up = map.above(offset) { return map.slot(up) }
            if let down = map.below(offset) {
                let above = levels[Int(map.slot(down))].better
                return above == nilSlot ? nil : above
            }
        }
        var slot = best
        while levels[Int(levels[Int(slot)].worse)].key > key { slot = levels[Int(slot)].worse }
        return slot
    }

    /// Links `slot` just below `above` (nil: as the new best).
    private mutating func link(_ slot: Int32, after above: Int32?) {
        let below = above.map { levels[Int($0)].worse } ?? best
        levels[Int(slot)].better = above ?? nilSlot
        levels[Int(slot)].worse = below
        if let above { levels[Int(above)].worse = slot } else { best = slot }
        if below == nilSlot { worst = slot } else { levels[Int(below)].better = slot }
    }

    /// A new level's key fell outside the window (it is linked, not yet mapped). Re-place the
    /// window over all levels when they fit in half the largest span (room to drift); else over
    /// the new key and the best level when those fit (the activity is near the top; far levels
    /// become outliers); else around the new key alone when the window holds nothing. Returns
    /// false when the key stays an outlier.
    private mutating func moveWindow(toward key: Int64) -> Bool {
        let limit: Int64 = 1 << Int64(LevelBitmap.maxSpanLog2 - 1)
        let top = levels[Int(best)].key
        let lo: Int64
        let hi: Int64
        if let width = Self.width(levels[Int(worst)].key, top), width < limit {
            (lo, hi) = (levels[Int(worst)].key, top)
        } else if let width = Self.width(min(key, top), max(key, top)), width < limit {
            (lo, hi) = (min(key, top), max(key, top))
        } else if map.count == 0 {
            (lo, hi) = (key, key)
        } else {
            return false
        }
        let width = hi &- lo
        // Never smaller than before: a window of the same size moves without allocating.
        var log2 = max(LevelBitmap.minSpanLog2, map.spanLog2)
        while (1 << Int64(log2)) < width &* 2 { log2 += 1 }
        let center = lo &+ width / 2
        let (base, o) = center.subtractingReportingOverflow(1 << Int64(log2 - 1))
        map.reset(base: o ? .min : base, spanLog2: log2)
        byKey.removeAll()
        var slot = best
        while slot != nilSlot {
            let key = levels[Int(slot)].key
            if let offset = map.offset(key) { map.set(offset, slot: slot) } else { byKey.insert(key, slot: slot) }
            slot = levels[Int(slot)].worse
        }
        return true
    }

    private static func width(_ lo: Int64, _ hi: Int64) -> Int64? {
        let (w, overflow) = hi.subtractingReportingOverflow(lo)
        return overflow ? nil : w
    }
}
