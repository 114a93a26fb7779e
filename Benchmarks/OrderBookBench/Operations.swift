// What a benchmark replays, and the seeded generator both mixes draw from.

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
    /// Re-price a resting order (an amend that loses priority and may trade).
    case move(id: Int64, owner: Int64, price: Int64)
}

/// A generated workload: `prefill` builds the starting book (untimed), `ops` are timed.
struct Workload {
    var name: String
    var prefill: [Operation]
    var ops: [Operation]
    var peakResting: Int
}

struct RunStats {
    var fills = 0
    var rejected = 0
    var rested = 0
    var cancelled = 0
    var checksum: Int64 = 0
}

extension OrderBook {
    /// Applies one operation, reusing `fills`; what happened is added to `stats`.
    @inline(__always)
    mutating func apply(_ op: Operation, fills: inout [Fill], stats: inout RunStats) {
        fills.removeAll(keepingCapacity: true)
        switch op {
        case .submit(let order):
            let report = submit(order, fills: &fills)
            stats.checksum &+= report.cost
            switch report.outcome {
            case .rejected: stats.rejected &+= 1
            case .rested: stats.rested &+= 1
            case .cancelled: stats.cancelled &+= 1
            case .filled: break
            }
        case .cancel(let id, let owner):
            if let o = try? cancel(orderId: id, owner: owner) {
                stats.cancelled &+= 1
                stats.checksum &+= o.remaining
            }
        case .move(let id, let owner, let price):
            if let a = try? amend(orderId: id, owner: owner, price: price, fills: &fills) {
                stats.checksum &+= a.report.cost
            } else {
                stats.rejected &+= 1
            }
        }
        stats.fills &+= fills.count
    }
}
