import Foundation

/// A self-contained SVG line chart (no script, no external file): one x axis of seconds, one
/// y axis scaled to the data with round tick values, a legend, and a text alternative.
public struct SVGChart {
    public struct Series {
        public let name: String
        public let color: String
        public let values: [Double]
        public init(_ name: String, color: String, _ values: [Double]) {
            self.name = name
            self.color = color
            self.values = values
        }
    }

    public let title: String
    public let yUnit: String
    public let series: [Series]
    let width = 900.0, height = 260.0
    let left = 64.0, right = 16.0, top = 28.0, bottom = 40.0

    public init(title: String, yUnit: String, series: [Series]) {
        self.title = title
        self.yUnit = yUnit
        self.series = series
    }

    public func render() -> String {
        let n = series.map(\.values.count).max() ?? 0
        let top = niceCeiling(series.flatMap(\.values).max() ?? 0)
        let plotW = width - left - right
        let plotH = height - self.top - bottom
        func x(_ i: Int) -> Double { left + (n > 1 ? plotW * Double(i) / Double(n - 1) : plotW / 2) }
        func y(_ v: Double) -> Double { self.top + plotH - (top > 0 ? plotH * v / top : 0) }
        var out =
            #"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \#(Int(width)) \#(Int(height))" role="img" aria-label="\#(Self.escape(title))">"#
        out += "<title>\(Self.escape(title))</title>"
        out += #"<text x="\#(left)" y="18" class="t">\#(Self.escape(title)) (\#(Self.escape(yUnit)))</text>"#
        for k in 0...4 {
            let v = top * Double(k) / 4
            let yy = y(v)
            out += #"<line x1="\#(left)" x2="\#(width - right)" y1="\#(fmt(yy))" y2="\#(fmt(yy))" class="g"/>"#
            out += #"<text x="\#(left - 6)" y="\#(fmt(yy + 4))" class="yl">\#(label(v))</text>"#
        }
        let step = max(1, n / 10)
        for i in stride(from: 0, to: n, by: step) {
            out += #"<text x="\#(fmt(x(i)))" y="\#(height - bottom + 16)" class="xl">\#(i)s</text>"#
        }
        for (k, s) in series.enumerated() where !s.values.isEmpty {
            let points = s.values.enumerated().map { "\(fmt(x($0.offset))),\(fmt(y($0.element)))" }.joined(
                separator: " ")
            out += #"<polyline fill="none" stroke="\#(s.color)" stroke-width="1.8" points="\#(points)"/>"#
            let lx = left + Double(k) * 150
            out += #"<rect x="\#(lx)" y="\#(height - 14)" width="12" height="4" fill="\#(s.color)"/>"#
            out += #"<text x="\#(lx + 16)" y="\#(height - 9)" class="lg">\#(Self.escape(s.name))</text>"#
        }
        return out + "</svg>"
    }

    /// 1, 2 or 5 × a power of ten at or above `v`.
    func niceCeiling(_ v: Double) -> Double {
        guard v > 0 else { return 1 }
        let p = pow(10, floor(log10(v)))
        for m in [1.0, 2, 5, 10] where m * p >= v { return m * p }
        return 10 * p
    }

    func label(_ v: Double) -> String {
        v >= 100 || v == v.rounded() ? String(Int(v.rounded())) : String(format: "%.1f", v)
    }
    func fmt(_ v: Double) -> String { String(format: "%.1f", v) }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
