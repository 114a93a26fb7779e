import Foundation

/// A load run as one self-contained HTML page: what was run, throughput, latency percentiles
/// and errors per second (inline SVG), and the per-label statistics table.
public enum HTMLReport {
    /// The command as a reader would type it: the tool's name without the build folder it ran from
    /// (a report is committed; the machine's paths are not its business).
    public static func commandLine(_ arguments: [String] = CommandLine.arguments) -> String {
        guard let tool = arguments.first else { return "" }
        return ([String(tool.split(separator: "/").last ?? Substring(tool))] + arguments.dropFirst()).joined(
            separator: " ")
    }

    public static func render(title: String, facts: [(String, String)], recorder r: Recorder) -> String {
        let secs = r.seconds
        let charts = [
            SVGChart(
                title: "Throughput", yUnit: "samples/s",
                series: [
                    .init("ok", color: "#1f77b4", secs.map { Double($0.count - $0.errors) }),
                    .init("errors", color: "#d62728", secs.map { Double($0.errors) }),
                ]),
            SVGChart(
                title: "Latency", yUnit: "ms",
                series: [50.0, 95, 99].enumerated().map { k, p in
                    .init(
                        "p\(Int(p))", color: ["#2ca02c", "#ff7f0e", "#9467bd"][k],
                        secs.map { $0.count == 0 ? 0 : Double($0.latency.valueAtPercentile(p)) / 1000 })
                }),
            SVGChart(
                title: "Errors", yUnit: "per s",
                series: [
                    .init("errors", color: "#d62728", secs.map { Double($0.errors) })
                ]),
        ]
        var html = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(SVGChart.escape(title))</title>
            <style>
            body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#111;max-width:960px}
            h1{font-size:20px} table{border-collapse:collapse;margin:12px 0} td,th{padding:4px 8px;border-bottom:1px solid #ccc}
            th{text-align:left;background:#f2f2f2} td.n{text-align:right;font-variant-numeric:tabular-nums}
            svg{width:100%;height:auto;margin:8px 0 16px} .t{font-size:14px;font-weight:600} .g{stroke:#ddd}
            .yl{font-size:11px;text-anchor:end;fill:#333} .xl{font-size:11px;text-anchor:middle;fill:#333} .lg{font-size:12px;fill:#111}
            </style></head><body>
            <h1>\(SVGChart.escape(title))</h1>
            <table>
            """
        for (k, v) in facts {
            html += "<tr><th scope=\"row\">\(SVGChart.escape(k))</th><td>\(SVGChart.escape(v))</td></tr>"
        }
        html += "</table>\n"
        for c in charts { html += c.render() + "\n" }
        let rows = SummaryTable.rows(r)
        html +=
            "<table><caption>Statistics per label</caption><tr>"
            + rows[0].map { "<th scope=\"col\">\($0)</th>" }.joined() + "</tr>"
        for row in rows.dropFirst() {
            html +=
                "<tr>"
                + row.enumerated().map { i, c in i == 0 ? "<td>\(SVGChart.escape(c))</td>" : "<td class=\"n\">\(c)</td>"
                }.joined() + "</tr>"
        }
        html += "</table>\n"
        let examples = r.labels.compactMap { l in
            r.byLabel[l].flatMap { $0.errorExamples.isEmpty ? nil : (l, $0.errorExamples) }
        }
        if !examples.isEmpty {
            html += "<h2>Error examples</h2><ul>"
            for (l, e) in examples {
                html += "<li>\(SVGChart.escape(l)): \(SVGChart.escape(e.joined(separator: " | ")))</li>"
            }
            html += "</ul>\n"
        }
        return html + "</body></html>\n"
    }
}
