import ServiceCore

/// How long the event feed gathers before its next read. A client costs a write per pass that
/// brings it something (in market-stream, and a read and a write in nginx), whatever the number
/// of events in it. While events are sparse the short window keeps each within `minMillis` of its
/// commit; once they come at `busyPerSecond` or more (measured over the last read: its entries
/// over the pause before it) the long one caps the passes at 1000 / `maxMillis` a second, until
/// the rate falls below that again. Under TestRun3 (~400 entries a second, ~110 public trades) to
/// 1,000 streams that cut the stack's extra CPU from +57 % to +14 % and, the cores being less
/// contended, the trades' p99 from 169 to 105 ms; 10 trades a second (~30 entries) stay on the short window
/// (BENCHMARKS.md, live events). Feed thread only.
public struct GatherWindow: Sendable, Equatable {
    public let minMillis: Int
    public let maxMillis: Int
    public let busyPerSecond: Int
    /// The pause before the read being judged.
    private var lastPause: Int

    public init(minMillis: Int, maxMillis: Int, busyPerSecond: Int) {
        self.minMillis = max(0, minMillis)
        self.maxMillis = max(self.minMillis, maxMillis)
        self.busyPerSecond = max(1, busyPerSecond)
        lastPause = self.minMillis
    }

    /// DT_STREAM_COALESCE_MS (20), DT_STREAM_COALESCE_MAX_MS (100), DT_STREAM_BUSY_PER_SECOND (150).
    public init(_ config: ServiceConfig) {
        self.init(
            minMillis: config.int("DT_STREAM_COALESCE_MS", default: 20),
            maxMillis: config.int("DT_STREAM_COALESCE_MAX_MS", default: 100),
            busyPerSecond: config.int("DT_STREAM_BUSY_PER_SECOND", default: 150))
    }

    /// The pause before the next read, after one that brought `events` entries.
    public mutating func pause(afterReading events: Int) -> Int {
        let busy = events * 1000 >= busyPerSecond * max(1, lastPause)
        lastPause = busy ? maxMillis : minMillis
        return lastPause
    }
}
