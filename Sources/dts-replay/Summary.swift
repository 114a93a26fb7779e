import Foundation
import LoadReport
import ServiceCore

/// The end-of-run report, as text for people and JSON for scripts (scripts/bench-replay).
struct Summary {
    let result: ReplayRunner.Result
    let users: Int
    let quoteHits: Int?
    let cache: (hits: Int, misses: Int)?

    /// Every command ends in exactly one of: ok, a command error, a transport error (sent or not).
    var commands: Int { result.tally.ok + commandErrors + transportErrors }
    var transportErrors: Int { result.tally.transportErrors.values.reduce(0, +) }
    var commandErrors: Int { result.tally.commandErrors.values.reduce(0, +) }
    var rate: Double { result.seconds > 0 ? Double(commands) / result.seconds : 0 }

    /// Every command's latency (HdrHistogram, 3 significant digits).
    var latency: LabelSummary { result.tally.recorder.total }

    var cacheRatio: Double? {
        guard let c = cache, c.hits + c.misses > 0 else { return nil }
        return Double(c.hits) / Double(c.hits + c.misses)
    }

    func text() -> String {
        let l = latency
        let t = result.tally
        var s = "dts-replay: \(commands) commands from \(users) users in \(String(format: "%.2f", result.seconds)) s: "
        s += "\(String(format: "%.1f", rate)) commands/s\n"
        s += "latency ms: p50 \(f(l.millis(atPercentile: 50)))  p90 \(f(l.millis(atPercentile: 90)))  "
        s += "p99 \(f(l.millis(atPercentile: 99)))  max \(f(l.maxMillis))\n"
        s += "ok: \(t.ok)\n"
        s += "command errors: \(commandErrors)\(breakdown(t.commandErrors))\n"
        s += "transport errors: \(transportErrors)\(breakdown(t.transportErrors))\n"
        if t.retried429 + t.retried503 + t.retriedConnect > 0 {
            s += "retries: 429 ×\(t.retried429), 503 ×\(t.retried503), connect ×\(t.retriedConnect)\n"
        }
        if let q = quoteHits {
            s += "quote-server hits: \(q) (\(String(format: "$%.2f", Double(q) * 0.05)) at $0.05 per hit)\n"
        } else {
            s += "quote-server hits: n/a\n"
        }
        if let c = cache, let r = cacheRatio {
            s += "quote cache hit ratio: \(String(format: "%.1f", r * 100))% (\(c.hits) hits, \(c.misses) misses)\n"
        } else {
            s += "quote cache hit ratio: n/a\n"
        }
        for d in result.dumps { s += "DUMPLOG \(d.name) → \(d.path) (\(d.bytes) bytes)\n" }
        for n in result.notes.prefix(10) { s += "note: \(n)\n" }
        return s
    }

    func json() -> JSON {
        let l = latency
        let t = result.tally
        func counts(_ d: [String: Int]) -> JSON {
            .object(d.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) })
        }
        func num(_ x: Double) -> JSON { .number(String(format: "%.3f", x)) }
        return .object([
            ("commands", .int(commands)), ("users", .int(users)), ("seconds", num(result.seconds)),
            ("commandsPerSecond", num(rate)),
            (
                "latencyMs",
                .object([
                    ("p50", num(l.millis(atPercentile: 50))), ("p90", num(l.millis(atPercentile: 90))),
                    ("p99", num(l.millis(atPercentile: 99))), ("max", num(l.maxMillis)),
                ])
            ),
            ("ok", .int(t.ok)), ("commandErrors", counts(t.commandErrors)),
            ("transportErrors", counts(t.transportErrors)),
            (
                "retries",
                .object([("429", .int(t.retried429)), ("503", .int(t.retried503)), ("connect", .int(t.retriedConnect))])
            ),
            ("quoteServerHits", quoteHits.map { .int($0) } ?? .null),
            ("cacheHits", cache.map { .int($0.hits) } ?? .null),
            ("cacheMisses", cache.map { .int($0.misses) } ?? .null),
            ("cacheHitRatio", cacheRatio.map { num($0) } ?? .null),
            (
                "dumps",
                .array(
                    result.dumps.map {
                        .object([("name", .string($0.name)), ("path", .string($0.path)), ("bytes", .int($0.bytes))])
                    })
            ),
        ])
    }

    private func f(_ x: Double) -> String { String(format: x < 10 ? "%.2f" : "%.1f", x) }

    private func breakdown(_ d: [String: Int]) -> String {
        guard !d.isEmpty else { return "" }
        return " ("
            + d.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map { "\($0.key) \($0.value)" }
            .joined(separator: ", ") + ")"
    }
}
