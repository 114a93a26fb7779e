import Foundation

/// Samples of one label (a JMeter sampler name), as the dashboard's statistics table shows them.
struct LabelStats {
    var latenciesMicros: [UInt32] = []
    var errors = 0
    var firstStartNanos: UInt64 = .max
    var lastEndNanos: UInt64 = 0
    var errorExamples: [String] = []

    mutating func record(startNanos: UInt64, endNanos: UInt64, error: String?) {
        latenciesMicros.append(UInt32(min(UInt64(UInt32.max), (endNanos &- startNanos) / 1000)))
        firstStartNanos = min(firstStartNanos, startNanos)
        lastEndNanos = max(lastEndNanos, endNanos)
        if let error {
            errors += 1
            if errorExamples.count < 3 { errorExamples.append(error) }
        }
    }

    mutating func merge(_ o: LabelStats) {
        latenciesMicros.append(contentsOf: o.latenciesMicros)
        errors += o.errors
        firstStartNanos = min(firstStartNanos, o.firstStartNanos)
        lastEndNanos = max(lastEndNanos, o.lastEndNanos)
        for e in o.errorExamples where errorExamples.count < 3 { errorExamples.append(e) }
    }
}

/// Per-label statistics in plan order, plus a TOTAL row.
struct LoadStats {
    var labels: [String]
    var byLabel: [String: LabelStats] = [:]

    init(labels: [String]) { self.labels = labels }

    mutating func record(_ label: String, startNanos: UInt64, endNanos: UInt64, error: String?) {
        if byLabel[label] == nil && !labels.contains(label) { labels.append(label) }
        byLabel[label, default: LabelStats()].record(startNanos: startNanos, endNanos: endNanos, error: error)
    }

    mutating func merge(_ o: LoadStats) {
        for l in o.labels where !labels.contains(l) { labels.append(l) }
        for (l, s) in o.byLabel { byLabel[l, default: LabelStats()].merge(s) }
    }

    var totalSamples: Int { byLabel.values.reduce(0) { $0 + $1.latenciesMicros.count } }
    var totalErrors: Int { byLabel.values.reduce(0) { $0 + $1.errors } }

    func table() -> String {
        var rows: [[String]] = [["Label", "#Samples", "FAIL", "Error %", "Throughput/s", "Mean ms", "p95 ms", "p99 ms", "Max ms"]]
        var total = LabelStats()
        for l in labels {
            guard let s = byLabel[l] else { continue }
            rows.append(Self.row(l, s))
            total.merge(s)
        }
        rows.append(Self.row("TOTAL", total))
        var widths = [Int](repeating: 0, count: rows[0].count)
        for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
        var out = ""
        for (n, r) in rows.enumerated() {
            let cells = r.enumerated().map { i, c in i == 0 ? c.padding(toLength: widths[i], withPad: " ", startingAt: 0)
                                                          : String(repeating: " ", count: widths[i] - c.count) + c }
            out += cells.joined(separator: "  ") + "\n"
            if n == 0 || n == rows.count - 2 { out += widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n" }
        }
        var examples = ""
        for l in labels {
            guard let s = byLabel[l], !s.errorExamples.isEmpty else { continue }
            examples += "  \(l): " + s.errorExamples.joined(separator: " | ") + "\n"
        }
        if !examples.isEmpty { out += "\nerror examples:\n" + examples }
        return out
    }

    static func row(_ label: String, _ s: LabelStats) -> [String] {
        let n = s.latenciesMicros.count
        guard n > 0 else { return [label, "0", "0", "-", "-", "-", "-", "-", "-"] }
        let sorted = s.latenciesMicros.sorted()
        func pct(_ p: Double) -> Double { Double(sorted[min(n - 1, Int((p * Double(n)).rounded(.up)) - 1)]) / 1000 }
        let mean = Double(sorted.reduce(0) { $0 + UInt64($1) }) / Double(n) / 1000
        let span = Double(s.lastEndNanos &- s.firstStartNanos) / 1e9
        let throughput = span > 0 ? Double(n) / span : Double(n)
        return [label, String(n), String(s.errors), String(format: "%.2f%%", Double(s.errors) * 100 / Double(n)),
                String(format: "%.2f", throughput), String(format: "%.2f", mean), String(format: "%.2f", pct(0.95)),
                String(format: "%.2f", pct(0.99)), String(format: "%.2f", Double(sorted[n - 1]) / 1000)]
    }
}
