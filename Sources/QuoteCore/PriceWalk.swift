import Glibc
import ServiceCore
import Synchronization

/// Per-symbol random walks in integer cents, like the legacy UVic server: each symbol starts at a
/// price derived from (seed, symbol), log-uniform over $1–$5,000 as the real 2021 log's prices are,
/// and moves a few percent on every hit. With a fixed seed the n-th hit of a symbol always returns
/// the same price, which makes tests reproducible.
final class PriceWalk: Sendable {
    static let minCents: Int64 = 100
    static let maxCents: Int64 = 500_000
    /// Largest move per hit, in basis points of the price.
    static let maxStepBasisPoints: Int64 = 400

    private struct Walk {
        var cents: Int64
        var rng: SplitMix64
    }

    let seed: UInt64
    private let walks = Mutex<[String: Walk]>([:])

    init(seed: UInt64) {
        self.seed = seed
    }

    /// The price for this hit, then advances the symbol's walk.
    func next(symbol: String) -> Int64 {
        walks.withLock { all in
            var walk = all[symbol] ?? PriceWalk.start(seed: seed, symbol: symbol)
            let price = walk.cents
            walk.cents = PriceWalk.step(walk.cents, &walk.rng)
            all[symbol] = walk
            return price
        }
    }

    var symbolCount: Int { walks.withLock { $0.count } }

    private static func start(seed: UInt64, symbol: String) -> Walk {
        var rng = SplitMix64(seed: seed ^ fnv1a(symbol))
        // Log-uniform start: ln(minCents) + u * ln(max/min); computed in Double once, then integer cents.
        let u = Double(rng.next() >> 11) / Double(1 << 53)
        let cents = Int64((Double(minCents) * pow(Double(maxCents) / Double(minCents), u)).rounded())
        return Walk(cents: min(maxCents, max(minCents, cents)), rng: rng)
    }

    private static func step(_ cents: Int64, _ rng: inout SplitMix64) -> Int64 {
        let span = UInt64(2 * maxStepBasisPoints + 1)
        let bp = Int64(rng.next() % span) - maxStepBasisPoints
        var delta = cents * bp / 10_000
        // Cheap stocks still move: at least a cent in the drawn direction.
        if delta == 0 && bp != 0 { delta = bp > 0 ? 1 : -1 }
        return min(maxCents, max(minCents, cents + delta))
    }

    static func fnv1a(_ s: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in s.utf8 {
            h ^= UInt64(b)
            h = h &* 0x100_0000_01b3
        }
        return h
    }
}
