import OrderBook
import Testing

/// The level storage places new levels through a bitmap window and falls back to walking the
/// links for prices outside it; both must keep every side sorted, whatever the prices.
@Suite("Level storage")
struct LevelStorageTests {
    @Test(arguments: Array(UInt64(1)...12))
    func depthStaysSortedAcrossWindowsAndOutliers(seed: UInt64) {
        var rng = SeededRNG(seed: seed)
        var book = OrderBook()
        var reference: [Int64: Int64] = [:] // price → quantity (bids only: nothing crosses)
        var live: [(id: Int64, price: Int64, qty: Int64)] = []
        let center = Int64.random(in: 1_000_000...1_000_000_000, using: &rng)
        for id in Int64(1)...3_000 {
            if !live.isEmpty && Int.random(in: 0..<3, using: &rng) == 0 {
                let o = live.remove(at: Int.random(in: 0..<live.count, using: &rng))
                #expect((try? book.cancel(orderId: o.id, owner: 1))?.remaining == o.qty)
                reference[o.price]! -= o.qty
                if reference[o.price] == 0 { reference[o.price] = nil }
                continue
            }
            // Mostly a drifting cluster, sometimes far outliers (either way), sometimes a jump.
            let price: Int64
            switch Int.random(in: 0..<20, using: &rng) {
            case 0: price = Int64.random(in: 1...1_000, using: &rng)
            case 1: price = Int64.random(in: (Int64.max / 8)...(Int64.max / 4), using: &rng) // × qty ≤ 3 fits
            case 2: price = center * 3 + Int64.random(in: -300_000...300_000, using: &rng)
            default: price = center + Int64(id) * 10 + Int64.random(in: -5_000...5_000, using: &rng)
            }
            let qty = Int64.random(in: 1...3, using: &rng)
            let r = book.limit(id, owner: 1, .buy, qty: qty, price: price)
            #expect(r.outcome == .rested(remaining: qty))
            live.append((id, price, qty))
            reference[price, default: 0] += qty
            if id % 97 == 0 {
                let expected = reference.sorted { $0.key > $1.key }.map(\.key)
                #expect(book.depth(.buy).map(\.price) == expected, "seed \(seed) order \(id)")
                #expect(book.depth(.buy).map(\.quantity) == expected.map { reference[$0]! })
            }
        }
        #expect(book.levelCount(.buy) == reference.count)
        #expect(book.bestBid?.price == reference.keys.max())
    }

    /// A book whose prices drift far (the window moves many times, reusing its memory) while old
    /// orders are cancelled: every level is still found and kept in order on both sides.
    @Test func driftingBookMovesItsWindow() throws {
        var book = OrderBook()
        var live: [(id: Int64, side: Side, price: Int64)] = []
        var rng = SeededRNG(seed: 99)
        for step in Int64(1)...20_000 {
            let mid = 1_000_000 + step * 7
            let side: Side = Bool.random(using: &rng) ? .buy : .sell
            let offset = Int64.random(in: 1...2_000, using: &rng)
            let price = side == .buy ? mid - offset : mid + offset
            _ = book.submit(.limit(id: step, owner: step % 5, side: side, quantity: 1, price: price))
            if book.order(id: step) != nil { live.append((step, side, price)) }
            if live.count > 300 {
                let old = live.removeFirst()
                _ = try? book.cancel(orderId: old.id, owner: old.id % 5)
            }
            live.removeAll { book.order(id: $0.id) == nil }
            if step % 1_000 == 0 {
                for s in Side.allCases {
                    let prices = Set(live.filter { $0.side == s }.map(\.price))
                    let expected = s == .buy ? prices.sorted(by: >) : prices.sorted()
                    #expect(book.depth(s).map(\.price) == expected, "step \(step) \(s)")
                    #expect(book.levelCount(s) == expected.count)
                }
            }
        }
    }

    @Test func asksAreSortedLowestFirstAcrossTheWholeRange() {
        var book = OrderBook()
        let prices: [Int64] = [500_000, 1, Int64.max / 3, 500_001, 499_999, 2, 1 << 40, 500_000 + (1 << 20)]
        for (i, p) in prices.enumerated() { book.limit(Int64(i + 1), owner: 1, .sell, qty: 1, price: p) }
        #expect(book.depth(.sell).map(\.price) == prices.sorted())
        // A market buy walks them cheapest first.
        let r = book.market(100, owner: 2, .buy, qty: 4)
        #expect(r.fills.map(\.price) == [1, 2, 499_999, 500_000])
        #expect(book.depth(.sell).map(\.price) == Array(prices.sorted().dropFirst(4)))
    }
}
