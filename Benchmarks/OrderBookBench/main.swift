// Throughput of one OrderBook on one thread for a standard mix:
// 60% limit orders around a random-walking mid price (some crossing), 20% market orders,
// 20% cancels of random live orders. Operations are generated up front (by a dry run on a
// separate book, so cancels target orders that are really live), then replayed on fresh books
// and timed with a monotonic clock.
//
// usage: bench-orderbook [operations=10000000] [repetitions=3] [seed=1]

import OrderBook

struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

enum Operation {
    case submit(Order)
    case cancel(id: Int64, owner: Int64)
}

let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let count = arguments.count > 0 ? arguments[0] : 10_000_000
let repetitions = arguments.count > 1 ? arguments[1] : 3
let seed = UInt64(arguments.count > 2 ? arguments[2] : 1)

func generate(count: Int, seed: UInt64) -> (ops: [Operation], peakResting: Int) {
    var rng = SplitMix64(state: seed)
    var ops: [Operation] = []
    ops.reserveCapacity(count)
    var book = OrderBook(expectedOrders: 1 << 16)
    var live: [(id: Int64, owner: Int64)] = []
    var fills: [Fill] = []
    var mid: Int64 = 10_000
    var nextId: Int64 = 1
    var peak = 0
    for _ in 0..<count {
        // Random walk of the mid, one cent at a time, kept in a band.
        if Int.random(in: 0..<8, using: &rng) == 0 {
            mid = min(max(mid + (Bool.random(using: &rng) ? 1 : -1), 5_000), 15_000)
        }
        let roll = Int.random(in: 0..<100, using: &rng)
        let owner = Int64.random(in: 1...1_000, using: &rng)
        let op: Operation
        if roll < 60 {
            let side: Side = Bool.random(using: &rng) ? .buy : .sell
            let offset = Int64.random(in: -3...25, using: &rng)   // < 0: crosses the mid
            let price = side == .buy ? mid - offset : mid + offset
            op = .submit(.limit(id: nextId, owner: owner, side: side,
                                quantity: Int64.random(in: 1...100, using: &rng), price: price))
            nextId += 1
        } else if roll < 80 {
            let side: Side = Bool.random(using: &rng) ? .buy : .sell
            let maxCost: Int64? = side == .buy && Bool.random(using: &rng) ? 1_000_000_000 : nil
            op = .submit(.market(id: nextId, owner: owner, side: side,
                                 quantity: Int64.random(in: 1...150, using: &rng), maxCost: maxCost))
            nextId += 1
        } else {
            // A random live order (filled ones are pruned as they are met).
            var target: (id: Int64, owner: Int64)?
            while target == nil && !live.isEmpty {
                let i = Int.random(in: 0..<live.count, using: &rng)
                let candidate = live[i]
                live.swapAt(i, live.count - 1)
                live.removeLast()
                if book.order(id: candidate.id) != nil { target = candidate }
            }
            guard let target else { continue }
            op = .cancel(id: target.id, owner: target.owner)
        }
        ops.append(op)
        switch op {
        case .submit(let order):
            fills.removeAll(keepingCapacity: true)
            if case .rested = book.submit(order, fills: &fills).outcome { live.append((order.id, order.owner)) }
        case .cancel(let id, let owner):
            _ = try? book.cancel(orderId: id, owner: owner)
        }
        peak = max(peak, book.restingOrderCount)
    }
    return (ops, peak)
}

struct RunStats {
    var fills = 0
    var rejected = 0
    var rested = 0
    var cancelled = 0
    var checksum: Int64 = 0
}

/// The timed loop: allocation-free submit with a reused fill buffer.
@inline(never)
func run(_ ops: [Operation], book: inout OrderBook) -> RunStats {
    var stats = RunStats()
    var fills: [Fill] = []
    fills.reserveCapacity(1024)
    for op in ops {
        switch op {
        case .submit(let order):
            fills.removeAll(keepingCapacity: true)
            let report = book.submit(order, fills: &fills)
            stats.fills &+= fills.count
            stats.checksum &+= report.cost
            switch report.outcome {
            case .rejected: stats.rejected &+= 1
            case .rested: stats.rested &+= 1
            case .filled: break
            }
        case .cancel(let id, let owner):
            if let o = try? book.cancel(orderId: id, owner: owner) {
                stats.cancelled &+= 1
                stats.checksum &+= o.remaining
            }
        }
    }
    return stats
}

/// Same loop through the convenience API that returns a fresh fills array per order.
@inline(never)
func runAllocating(_ ops: [Operation], book: inout OrderBook) -> RunStats {
    var stats = RunStats()
    for op in ops {
        switch op {
        case .submit(let order):
            let result = book.submit(order)
            stats.fills &+= result.fills.count
            stats.checksum &+= result.cost
        case .cancel(let id, let owner):
            if let o = try? book.cancel(orderId: id, owner: owner) { stats.checksum &+= o.remaining }
        }
    }
    return stats
}

func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
}

/// x with `digits` decimals (no Foundation here).
func fixed(_ x: Double, _ digits: Int) -> String {
    var scale: Int64 = 1
    for _ in 0..<digits { scale *= 10 }
    let n = Int64(x * Double(scale) + 0.5)  // x ≥ 0 here; avoids libm's round
    guard digits > 0 else { return String(n) }
    var frac = String(n % scale)
    while frac.count < digits { frac = "0" + frac }
    return String(n / scale) + "." + frac
}

func report(_ label: String, operations: Int, elapsed: Double) -> String {
    let rate = Double(operations) / elapsed / 1e6
    let ns = elapsed * 1e9 / Double(operations)
    return "\(label): \(fixed(elapsed, 3)) s, \(fixed(rate, 2)) M ops/s, \(fixed(ns, 1)) ns/op"
}

print("generating \(count) operations (seed \(seed))…")
let clock = ContinuousClock()
let genStart = clock.now
let (ops, peak) = generate(count: count, seed: seed)
let submits = ops.reduce(0) { if case .submit = $1 { return $0 + 1 } else { return $0 } }
let genSeconds = seconds(clock.now - genStart)
print("generated in \(fixed(genSeconds, 2)) s: \(submits) submits, \(ops.count - submits) cancels, peak resting \(peak)")

var best = Double.infinity
for rep in 1...max(repetitions, 1) {
    var book = OrderBook(expectedOrders: peak)
    let start = clock.now
    let stats = run(ops, book: &book)
    let elapsed = seconds(clock.now - start)
    best = min(best, elapsed)
    print(report("run \(rep)", operations: ops.count, elapsed: elapsed))
    let levels = "\(book.depth(.buy).count)+\(book.depth(.sell).count)"
    print("  fills \(stats.fills), rested \(stats.rested), rejected \(stats.rejected), cancelled \(stats.cancelled), "
          + "resting at end \(book.restingOrderCount), levels \(levels), checksum \(stats.checksum)")
}
print(report("best (reused fill buffer)", operations: ops.count, elapsed: best))

var book = OrderBook(expectedOrders: peak)
let start = clock.now
let stats = runAllocating(ops, book: &book)
let elapsed = seconds(clock.now - start)
print(report("allocating submit(_:) API", operations: ops.count, elapsed: elapsed) + " (checksum \(stats.checksum))")
