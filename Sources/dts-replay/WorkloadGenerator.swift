import Foundation
import ServiceCore

/// `dts-replay gen`: a synthetic workload in the official `[n] CMD,args ` format. Deterministic
/// for a seed. Each user starts with an ADD; the rest follows the official files' mix but with the
/// usual follow-ups (BUY then mostly COMMIT_BUY, SET_*_AMOUNT then its trigger) so that a good share
/// of commands succeed, plus the stray COMMIT/CANCELs the official files are full of. Users'
/// commands are interleaved at random (per-user order is what matters); DUMPLOG comes last.
struct WorkloadGenerator {
    var users = 10
    var commands = 1000
    var seed: UInt64 = 1
    var symbols: Int? = nil

    func text() -> String {
        var rng = Rng(seed: seed)
        let ids = (0..<users).map { _ in rng.word(10, alphabet: Rng.alnum) }
        var symbolSet: [String] = []
        var seen = Set<String>()
        let symbolCount = max(1, symbols ?? min(1000, max(5, users * 5)))
        while symbolSet.count < min(symbolCount, 17_576) {
            let s = rng.word(3, alphabet: Rng.upper)
            if seen.insert(s).inserted { symbolSet.append(s) }
        }
        let perUser = commands - 1
        var streams: [[String]] = []
        for (u, id) in ids.enumerated() {
            let quota = perUser / users + (u < perUser % users ? 1 : 0)
            var script = UserScript(user: id, symbols: symbolSet)
            streams.append(script.make(quota, &rng))
        }
        // Interleave, weighting users by what they have left so streams end at about the same time.
        var cursors = [Int](repeating: 0, count: streams.count)
        var remaining = perUser
        var lines: [String] = []
        lines.reserveCapacity(commands)
        while remaining > 0 {
            var pick = Int(rng.below(UInt64(remaining)))
            var u = 0
            while pick >= streams[u].count - cursors[u] {
                pick -= streams[u].count - cursors[u]
                u += 1
            }
            lines.append("[\(lines.count + 1)] \(streams[u][cursors[u]]) ")
            cursors[u] += 1
            remaining -= 1
        }
        lines.append("[\(lines.count + 1)] DUMPLOG,./testLOG")
        return lines.joined(separator: "\n") + "\n"
    }
}

/// One user's command sequence, with just enough memory of what it did to make follow-ups plausible.
private struct UserScript {
    let user: String
    let symbols: [String]
    var owned: [String] = []
    var deferred: [(due: Int, line: String)] = []
    var out: [String] = []

    init(user: String, symbols: [String]) {
        self.user = user
        self.symbols = symbols
    }

    mutating func make(_ quota: Int, _ rng: inout Rng) -> [String] {
        out = ["ADD,\(user),\(rng.money(50_000_00, 100_000_00))"]
        while out.count < quota {
            if let i = deferred.firstIndex(where: { $0.due <= out.count }) {
                out.append(deferred.remove(at: i).line)
                continue
            }
            episode(&rng)
        }
        return Array(out.prefix(quota))
    }

    private mutating func episode(_ rng: inout Rng) {
        let sym = symbols[Int(rng.below(UInt64(symbols.count)))]
        let roll = rng.below(100)
        switch roll {
        case 0..<14:
            out.append("QUOTE,\(user),\(sym)")
        case 14..<36:
            out.append("BUY,\(user),\(sym),\(rng.money(10_00, 750_00))")
            let r = rng.below(100)
            if r < 65 {
                out.append("COMMIT_BUY,\(user)")
                if !owned.contains(sym) { owned.append(sym) }
            } else if r < 88 {
                out.append("CANCEL_BUY,\(user)")
            }
        case 36..<46:
            let s = owned.isEmpty || rng.below(4) == 0 ? sym : owned[Int(rng.below(UInt64(owned.count)))]
            out.append("SELL,\(user),\(s),\(rng.money(10_00, 750_00))")
            let r = rng.below(100)
            if r < 60 { out.append("COMMIT_SELL,\(user)") } else if r < 90 { out.append("CANCEL_SELL,\(user)") }
        case 46..<55:
            let amount = rng.below(740_00) + 10_00
            out.append("SET_BUY_AMOUNT,\(user),\(sym),\(Rng.dollars(amount))")
            if rng.below(100) < 85 {
                out.append("SET_BUY_TRIGGER,\(user),\(sym),\(Rng.dollars(rng.below(amount - 100) + 100))")
            }
            if rng.below(100) < 25 {
                deferred.append((out.count + Int(rng.below(8)) + 1, "CANCEL_SET_BUY,\(user),\(sym)"))
            }
        case 55..<62:
            let s = owned.isEmpty || rng.below(3) == 0 ? sym : owned[Int(rng.below(UInt64(owned.count)))]
            let amount = rng.below(740_00) + 10_00
            out.append("SET_SELL_AMOUNT,\(user),\(s),\(Rng.dollars(amount))")
            if rng.below(100) < 85 {
                out.append("SET_SELL_TRIGGER,\(user),\(s),\(Rng.dollars(rng.below(amount - 100) + 100))")
            }
            if rng.below(100) < 25 {
                deferred.append((out.count + Int(rng.below(8)) + 1, "CANCEL_SET_SELL,\(user),\(s)"))
            }
        case 62..<72:
            out.append("DISPLAY_SUMMARY,\(user)")
        case 72..<78:
            out.append("ADD,\(user),\(rng.money(1_000_00, 50_000_00))")
        default:
            // Strays, as in the official files: mostly nothing pending.
            let strays = [
                "COMMIT_BUY,\(user)", "CANCEL_BUY,\(user)", "COMMIT_SELL,\(user)", "CANCEL_SELL,\(user)",
                "CANCEL_SET_BUY,\(user),\(sym)", "CANCEL_SET_SELL,\(user),\(sym)",
            ]
            out.append(strays[Int(rng.below(UInt64(strays.count)))])
        }
    }
}

/// The generator's draws: seeded SplitMix64 (from ServiceCore) plus the helpers it needs.
struct Rng {
    static let alnum = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)
    static let upper = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)
    private var source: SplitMix64
    init(seed: UInt64) { source = SplitMix64(seed: seed) }

    mutating func next() -> UInt64 { source.next() }

    mutating func below(_ n: UInt64) -> UInt64 { n <= 1 ? 0 : next() % n }

    mutating func word(_ length: Int, alphabet: [UInt8]) -> String {
        String(decoding: (0..<length).map { _ in alphabet[Int(below(UInt64(alphabet.count)))] }, as: UTF8.self)
    }

    /// Decimal dollars with two places, uniform over [lo, hi] cents.
    mutating func money(_ lo: UInt64, _ hi: UInt64) -> String { Rng.dollars(lo + below(hi - lo + 1)) }

    static func dollars(_ cents: UInt64) -> String { "\(cents / 100).\(cents % 100 < 10 ? "0" : "")\(cents % 100)" }
}
