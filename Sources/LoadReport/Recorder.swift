import Histogram

/// Latency samples of a load run, by label and by second: what the summary tables and the HTML
/// report are made from. One recorder per thread (no sharing on the hot path); `merge` them at
/// the end. Latencies are microseconds in HdrHistograms, so percentiles are exact to 3 significant
/// digits (2 for the per-second ones) whatever the run's length, in bounded memory.
public struct Recorder: Sendable {
    /// Monotonic nanoseconds that second 0 starts at; recorders to be merged share it.
    public let originNanos: UInt64
    public private(set) var labels: [String]
    public private(set) var byLabel: [String: LabelSummary] = [:]
    public private(set) var seconds: [SecondBucket] = []

    public init(originNanos: UInt64, labels: [String] = []) {
        self.originNanos = originNanos
        self.labels = labels
    }

    /// One finished sample: it counts in the second it ended in.
    public mutating func record(_ label: String, startNanos: UInt64, endNanos: UInt64, error: String?) {
        let micros = max(1, (endNanos &- startNanos) / 1000)
        if byLabel[label] == nil && !labels.contains(label) { labels.append(label) }
        byLabel[label, default: LabelSummary()].record(
            micros: micros, startNanos: startNanos, endNanos: endNanos, error: error)
        let second = endNanos > originNanos ? Int((endNanos - originNanos) / 1_000_000_000) : 0
        while seconds.count <= second { seconds.append(SecondBucket()) }
        seconds[second].record(micros: micros, failed: error != nil)
    }

    public mutating func merge(_ o: Recorder) {
        for l in o.labels where !labels.contains(l) { labels.append(l) }
        for (l, s) in o.byLabel { byLabel[l, default: LabelSummary()].merge(s) }
        let shift = o.originNanos >= originNanos ? Int((o.originNanos - originNanos) / 1_000_000_000) : 0
        for (i, b) in o.seconds.enumerated() {
            while seconds.count <= i + shift { seconds.append(SecondBucket()) }
            seconds[i + shift].merge(b)
        }
    }

    /// Every label together.
    public var total: LabelSummary {
        var t = LabelSummary()
        for s in byLabel.values { t.merge(s) }
        return t
    }
}

/// All samples of one label.
public struct LabelSummary: Sendable {
    public private(set) var latency = Histogram<UInt64>(numberOfSignificantValueDigits: .three)
    public private(set) var errors = 0
    public private(set) var firstStartNanos: UInt64 = .max
    public private(set) var lastEndNanos: UInt64 = 0
    public private(set) var errorExamples: [String] = []

    public init() {}

    public var count: Int { Int(latency.totalCount) }

    /// Samples per second between the first start and the last end.
    public var throughput: Double {
        let span = Double(lastEndNanos &- firstStartNanos) / 1e9
        return count == 0 ? 0 : (span > 0 ? Double(count) / span : Double(count))
    }

    /// Milliseconds at a percentile (0–100).
    public func millis(atPercentile p: Double) -> Double { Double(latency.valueAtPercentile(p)) / 1000 }
    public var meanMillis: Double { count == 0 ? 0 : latency.mean / 1000 }
    public var maxMillis: Double { count == 0 ? 0 : Double(latency.max) / 1000 }

    mutating func record(micros: UInt64, startNanos: UInt64, endNanos: UInt64, error: String?) {
        _ = latency.record(micros)
        firstStartNanos = min(firstStartNanos, startNanos)
        lastEndNanos = max(lastEndNanos, endNanos)
        if let error {
            errors += 1
            if errorExamples.count < 3 { errorExamples.append(error) }
        }
    }

    mutating func merge(_ o: LabelSummary) {
        latency.add(o.latency)
        errors += o.errors
        firstStartNanos = min(firstStartNanos, o.firstStartNanos)
        lastEndNanos = max(lastEndNanos, o.lastEndNanos)
        for e in o.errorExamples where errorExamples.count < 3 { errorExamples.append(e) }
    }
}

/// The samples that ended in one second.
public struct SecondBucket: Sendable {
    public private(set) var latency = Histogram<UInt64>(numberOfSignificantValueDigits: .two)
    public private(set) var errors = 0

    public var count: Int { Int(latency.totalCount) }

    mutating func record(micros: UInt64, failed: Bool) {
        _ = latency.record(micros)
        if failed { errors += 1 }
    }

    mutating func merge(_ o: SecondBucket) {
        latency.add(o.latency)
        errors += o.errors
    }
}
