// Timing: throughput over the whole replay (best of N fresh books), then one more replay timing
// every command on its own for the latency percentiles, sampling the book's shape as it goes.

import Histogram
import OrderBook

struct Shape {
    var orders = 0
    var levels = 0
}

struct LatencyRun {
    var p50: Double
    var p99: Double
    var p999: Double
    var max: Double
    /// Mean and range of the book's size over the run.
    var meanShape: Shape
    var minShape: Shape
    var maxShape: Shape
}

func freshBook(_ w: Workload) -> OrderBook {
    var book = OrderBook(expectedOrders: max(w.peakResting, 64))
    var fills: [Fill] = []
    var ignored = RunStats()
    for op in w.prefill { book.apply(op, fills: &fills, stats: &ignored) }
    return book
}

/// The timed loop: allocation-free with a reused fill buffer.
@inline(never)
func run(_ ops: [Operation], book: inout OrderBook) -> RunStats {
    var stats = RunStats()
    var fills: [Fill] = []
    fills.reserveCapacity(1024)
    for op in ops { book.apply(op, fills: &fills, stats: &stats) }
    return stats
}

@inline(never)
func measureLatency(_ w: Workload, clock: ContinuousClock) -> LatencyRun {
    var book = freshBook(w)
    var fills: [Fill] = []
    fills.reserveCapacity(1024)
    var stats = RunStats()
    // Nanoseconds, 3 significant digits: percentiles without keeping and sorting every sample.
    var ns = Histogram<UInt64>(numberOfSignificantValueDigits: .three)
    var sum = (orders: 0, levels: 0, samples: 0)
    var lo = Shape(orders: .max, levels: .max)
    var hi = Shape()
    for (i, op) in w.ops.enumerated() {
        let start = clock.now
        book.apply(op, fills: &fills, stats: &stats)
        let d = (clock.now - start).components
        ns.record(UInt64(max(0, d.seconds &* 1_000_000_000 &+ d.attoseconds / 1_000_000_000)))
        if i & 1023 == 0 {
            let s = Shape(orders: book.restingOrderCount, levels: book.levelCount(.buy) + book.levelCount(.sell))
            sum = (sum.orders + s.orders, sum.levels + s.levels, sum.samples + 1)
            lo = Shape(orders: min(lo.orders, s.orders), levels: min(lo.levels, s.levels))
            hi = Shape(orders: max(hi.orders, s.orders), levels: max(hi.levels, s.levels))
        }
    }
    func at(_ percentile: Double) -> Double { Double(ns.valueAtPercentile(percentile)) }
    let n = max(sum.samples, 1)
    return LatencyRun(
        p50: at(50), p99: at(99), p999: at(99.9), max: Double(ns.max),
        meanShape: Shape(orders: sum.orders / n, levels: sum.levels / n), minShape: lo, maxShape: hi)
}

/// What reading the clock twice costs (included in every per-command figure).
func clockOverhead(_ clock: ContinuousClock) -> Double {
    var best = Int64.max
    for _ in 0..<100_000 {
        let a = clock.now
        let d = (clock.now - a).components
        best = min(best, d.seconds &* 1_000_000_000 &+ d.attoseconds / 1_000_000_000)
    }
    return Double(best)
}

func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
}

/// x with `digits` decimals (no Foundation here).
func fixed(_ x: Double, _ digits: Int) -> String {
    var scale: Int64 = 1
    for _ in 0..<digits { scale *= 10 }
    let n = Int64(x * Double(scale) + 0.5) // x ≥ 0 here; avoids libm's round
    guard digits > 0 else { return String(n) }
    var frac = String(n % scale)
    while frac.count < digits { frac = "0" + frac }
    return String(n / scale) + "." + frac
}

func rate(operations: Int, elapsed: Double) -> String {
    "\(fixed(Double(operations) / elapsed / 1e6, 2)) M ops/s, \(fixed(elapsed * 1e9 / Double(operations), 1)) ns/op"
}

func benchmark(_ w: Workload, repetitions: Int, clock: ContinuousClock) {
    var counts = (submit: 0, cancel: 0, move: 0)
    for op in w.ops {
        switch op {
        case .submit: counts.submit += 1
        case .cancel: counts.cancel += 1
        case .move: counts.move += 1
        }
    }
    print("\n== \(w.name)")
    print(
        "\(w.ops.count) timed operations (\(counts.submit) submits, \(counts.cancel) cancels, \(counts.move) moves) "
            + "after \(w.prefill.count) untimed prefill orders; peak resting \(w.peakResting)")
    var best = Double.infinity
    for rep in 1...max(repetitions, 1) {
        var book = freshBook(w)
        let start = clock.now
        let stats = run(w.ops, book: &book)
        let elapsed = seconds(clock.now - start)
        best = min(best, elapsed)
        print(
            "run \(rep): \(fixed(elapsed, 3)) s, \(rate(operations: w.ops.count, elapsed: elapsed)); "
                + "fills \(stats.fills), rested \(stats.rested), cancelled \(stats.cancelled), rejected \(stats.rejected), "
                + "checksum \(stats.checksum)")
    }
    print("best of \(max(repetitions, 1)): \(rate(operations: w.ops.count, elapsed: best))")
    let l = measureLatency(w, clock: clock)
    print(
        "per command (ns, incl. ~\(fixed(clockOverhead(clock), 0)) ns clock): p50 \(fixed(l.p50, 0)), "
            + "p99 \(fixed(l.p99, 0)), p99.9 \(fixed(l.p999, 0)), max \(fixed(l.max, 0))")
    print(
        "book shape: orders mean \(l.meanShape.orders) (\(l.minShape.orders)–\(l.maxShape.orders)), "
            + "levels mean \(l.meanShape.levels) (\(l.minShape.levels)–\(l.maxShape.levels))")
}
