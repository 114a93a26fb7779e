import Foundation

/// The JMeter dashboard's statistics table, as plain text rows (first row = header).
public enum SummaryTable {
    public static let header = [
        "Label", "#Samples", "FAIL", "Error %", "Throughput/s", "Mean ms", "p50 ms", "p95 ms", "p99 ms", "Max ms",
    ]

    public static func rows(_ r: Recorder) -> [[String]] {
        var rows = [header]
        for l in r.labels {
            guard let s = r.byLabel[l] else { continue }
            rows.append(row(l, s))
        }
        rows.append(row("TOTAL", r.total))
        return rows
    }

    public static func row(_ label: String, _ s: LabelSummary) -> [String] {
        guard s.count > 0 else { return [label, "0", "0", "-", "-", "-", "-", "-", "-", "-"] }
        return [
            label, String(s.count), String(s.errors),
            String(format: "%.2f%%", Double(s.errors) * 100 / Double(s.count)),
            String(format: "%.2f", s.throughput), String(format: "%.2f", s.meanMillis),
            String(format: "%.2f", s.millis(atPercentile: 50)), String(format: "%.2f", s.millis(atPercentile: 95)),
            String(format: "%.2f", s.millis(atPercentile: 99)), String(format: "%.2f", s.maxMillis),
        ]
    }

    /// Columns aligned, a rule under the header and above the TOTAL row, then error examples.
    public static func text(_ r: Recorder) -> String {
        let rows = rows(r)
        var widths = [Int](repeating: 0, count: header.count)
        for row in rows { for (i, c) in row.enumerated() { widths[i] = max(widths[i], c.count) } }
        var out = ""
        for (n, row) in rows.enumerated() {
            let cells = row.enumerated().map { i, c in
                i == 0
                    ? c.padding(toLength: widths[i], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[i] - c.count) + c
            }
            out += cells.joined(separator: "  ") + "\n"
            if n == 0 || n == rows.count - 2 {
                out += widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n"
            }
        }
        var examples = ""
        for l in r.labels {
            guard let s = r.byLabel[l], !s.errorExamples.isEmpty else { continue }
            examples += "  \(l): " + s.errorExamples.joined(separator: " | ") + "\n"
        }
        if !examples.isEmpty { out += "\nerror examples:\n" + examples }
        return out
    }
}
