// Throughput and per-command latency of one OrderBook on one thread, for two mixes: the original
// shallow-book mix and exchange-core's (hundreds of sparse levels, mostly moves). Operations are
// generated up front by a dry run, then replayed on fresh books and timed with a monotonic clock.
//
// usage: bench-orderbook [operations=10000000] [repetitions=5] [seed=1] [standard|exchange]

import OrderBook

let arguments = CommandLine.arguments.dropFirst()
let numbers = arguments.compactMap { Int($0) }
let count = numbers.count > 0 ? numbers[0] : 10_000_000
let repetitions = numbers.count > 1 ? numbers[1] : 5
let seed = UInt64(numbers.count > 2 ? numbers[2] : 1)
let only = arguments.first { Int($0) == nil }

let clock = ContinuousClock()
let mixes: [(String, (Int, UInt64) -> Workload)] = [
    ("standard", { standardMix(count: $0, seed: $1) }),
    ("exchange", { exchangeCoreMix(count: $0, seed: $1) }),
]
for (name, make) in mixes where only == nil || only == name {
    let start = clock.now
    let workload = make(count, seed)
    print("\n[\(name)] generated \(count) operations (seed \(seed)) in \(fixed(seconds(clock.now - start), 2)) s")
    benchmark(workload, repetitions: repetitions, clock: clock)
}
