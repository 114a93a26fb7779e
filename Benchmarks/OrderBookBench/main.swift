// Throughput and per-command latency of one OrderBook on one thread, for two mixes: the original
// shallow-book mix and exchange-core's (hundreds of sparse levels, mostly moves). Operations are
// generated up front by a dry run, then replayed on fresh books and timed with a monotonic clock.
//
// usage: bench-orderbook [operations=10000000] [repetitions=5] [seed=1] [standard|exchange]  (--help)

import ArgumentParser
import OrderBook

struct BenchCommand: ParsableCommand {
    enum Mix: String, CaseIterable, ExpressibleByArgument {
        case standard, exchange
    }

    static let configuration = CommandConfiguration(
        commandName: "bench-orderbook",
        abstract: "Throughput and per-command latency of one order book on one thread.")

    @Argument(help: "Operations generated per mix.")
    var operations = 10_000_000

    @Argument(help: "Timed replays on fresh books (the best is reported).")
    var repetitions = 5

    @Argument(help: "Generator seed.")
    var seed: UInt64 = 1

    @Argument(help: "Only this mix (default: both).")
    var mix: Mix?

    func validate() throws {
        guard operations >= 1, repetitions >= 1 else {
            throw ValidationError("operations and repetitions must be at least 1")
        }
    }
}

let command = BenchCommand.parseOrExit()
let count = command.operations
let repetitions = command.repetitions
let seed = command.seed
let only = command.mix?.rawValue

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
