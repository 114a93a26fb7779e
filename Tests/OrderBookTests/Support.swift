import OrderBook

/// SplitMix64: tiny, seedable, good enough to drive random order streams reproducibly.
struct SeededRNG: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed &+ 0x1234_5678 }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension OrderBook {
    /// Places a limit order and returns the result (test shorthand).
    @discardableResult
    mutating func limit(_ id: Int64, owner: Int64, _ side: Side, qty: Int64, price: Int64) -> SubmitResult {
        submit(.limit(id: id, owner: owner, side: side, quantity: qty, price: price))
    }

    @discardableResult
    mutating func market(_ id: Int64, owner: Int64, _ side: Side, qty: Int64, maxCost: Int64? = nil) -> SubmitResult {
        submit(.market(id: id, owner: owner, side: side, quantity: qty, maxCost: maxCost))
    }

    /// (id, remaining) of one side in priority order.
    func queue(_ side: Side) -> [[Int64]] {
        orders(side).map { [$0.id, $0.remaining] }
    }
}

extension Fill {
    /// (maker, taker, price, quantity) for compact assertions.
    var tuple: [Int64] { [makerOrderId, takerOrderId, price, quantity] }
}

extension SubmitResult {
    var rejection: OrderBookError? {
        if case .rejected(let e) = outcome { return e }
        return nil
    }
}
