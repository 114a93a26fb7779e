// exchange-core's single-book benchmark mix, generated from its public description (README and
// test-generator parameters), not from its code: ~9% GTC limit orders, ~3% IOC, ~6% cancels and
// ~82% moves, where a move shifts a resting order's price 1% of the way toward the last trade;
// sizes 1 + r³ (r = 0..<6); cancels and moves aimed at the 512 oldest live orders; the book held
// near 1,000 resting orders spread over 100,000 ± 5,000 ticks (hundreds of sparse levels).

import OrderBook

struct ExchangeCoreShape {
    var targetOrders = 1_000
    var center: Int64 = 100_000
    var band: Int64 = 5_000
    /// Cancels and moves pick among this many oldest live orders.
    var oldest = 512
}

func exchangeCoreMix(count: Int, seed: UInt64, shape: ExchangeCoreShape = ExchangeCoreShape()) -> Workload {
    var g = ExchangeCoreGenerator(seed: seed, shape: shape)
    var prefill: [Operation] = []
    while g.book.restingOrderCount < shape.targetOrders { prefill.append(g.step(g.gtc())) }
    var ops: [Operation] = []
    ops.reserveCapacity(count)
    var peak = 0
    for _ in 0..<count {
        ops.append(g.step(g.next()))
        peak = max(peak, g.book.restingOrderCount)
    }
    return Workload(
        name: "exchange-core mix (9% GTC, 3% IOC, 6% cancel, 82% move)", prefill: prefill, ops: ops,
        peakResting: peak)
}

/// Dry-runs every operation on its own book, so targets are live and moves see the real last trade.
struct ExchangeCoreGenerator {
    var rng: SplitMix64
    let shape: ExchangeCoreShape
    var book = OrderBook(expectedOrders: 4_096)
    /// Live orders, oldest first.
    var live: [(id: Int64, owner: Int64)] = []
    var nextId: Int64 = 1
    var fills: [Fill] = []

    init(seed: UInt64, shape: ExchangeCoreShape) {
        rng = SplitMix64(state: seed)
        self.shape = shape
    }

    var lastTrade: Int64 { book.lastTradePrice ?? shape.center }

    mutating func size() -> Int64 {
        let r = Int64.random(in: 0..<6, using: &rng)
        return 1 + r * r * r
    }

    mutating func next() -> Operation {
        let roll = Int.random(in: 0..<100, using: &rng)
        // Hold the book near its target: below it a cancel becomes an order, above it the reverse.
        let crowded = live.count > shape.targetOrders + shape.targetOrders / 20
        let thin = live.count < shape.targetOrders - shape.targetOrders / 20
        if roll < 9 { return crowded ? cancel() : gtc() }
        if roll < 12 { return ioc() }
        if roll < 18 { return thin ? gtc() : cancel() }
        return move()
    }

    mutating func gtc() -> Operation {
        let side: Side = Bool.random(using: &rng) ? .buy : .sell
        // Mostly passive within the band; one in twenty crosses by a few ticks.
        var offset = Int64.random(in: 1...shape.band, using: &rng)
        if Int.random(in: 0..<20, using: &rng) == 0 { offset = -Int64.random(in: 0...20, using: &rng) }
        let raw = side == .buy ? lastTrade - offset : lastTrade + offset
        let price = min(max(raw, shape.center - shape.band), shape.center + shape.band)
        return newOrder(side, price: price, tif: .gtc)
    }

    mutating func ioc() -> Operation {
        let side: Side = Bool.random(using: &rng) ? .buy : .sell
        let best = side == .buy ? book.bestAsk?.price : book.bestBid?.price
        let reach = Int64.random(in: 0...50, using: &rng)
        let price = side == .buy ? (best ?? lastTrade) + reach : max((best ?? lastTrade) - reach, 1)
        return newOrder(side, price: price, tif: .ioc)
    }

    mutating func newOrder(_ side: Side, price: Int64, tif: TimeInForce) -> Operation {
        let order = Order.limit(
            id: nextId, owner: Int64.random(in: 1...1_000, using: &rng), side: side,
            quantity: size(), price: price, timeInForce: tif)
        nextId += 1
        return .submit(order)
    }

    mutating func target() -> (id: Int64, owner: Int64)? {
        guard !live.isEmpty else { return nil }
        return live[Int.random(in: 0..<min(shape.oldest, live.count), using: &rng)]
    }

    mutating func cancel() -> Operation {
        guard let t = target() else { return gtc() }
        return .cancel(id: t.id, owner: t.owner)
    }

    mutating func move() -> Operation {
        guard let t = target(), let o = book.order(id: t.id) else { return gtc() }
        let gap = lastTrade - o.price
        var step = gap / 100
        if step == 0 { step = gap > 0 ? 1 : (gap < 0 ? -1 : (o.side == .buy ? -1 : 1)) }
        return .move(id: t.id, owner: t.owner, price: max(o.price + step, 1))
    }

    /// Applies `op` to the generator's book and keeps the live list in step; returns `op`.
    mutating func step(_ op: Operation) -> Operation {
        var ignored = RunStats()
        book.apply(op, fills: &fills, stats: &ignored)
        switch op {
        case .submit(let order):
            if book.order(id: order.id) != nil { live.append((order.id, order.owner)) }
        case .cancel(let id, _):
            drop(id)
        case .move(let id, _, _):
            if book.order(id: id) == nil { drop(id) }
        }
        for f in fills where f.makerRemaining == 0 { drop(f.makerOrderId) }
        return op
    }

    mutating func drop(_ id: Int64) {
        if let i = live.firstIndex(where: { $0.id == id }) { live.remove(at: i) }
    }
}
