/// A Redis stream entry id, `<ms>-<seq>`, assigned by Redis when an engine appends an event to the
/// `events` stream (every engine shard appends to that one key, so the ids order all shards'
/// events). It is also the SSE `id:`, so a client's Last-Event-ID says where in the stream it is.
public struct EventId: Sendable, Comparable, Hashable, CustomStringConvertible {
    public let ms: UInt64
    public let seq: UInt64

    public init(ms: UInt64, seq: UInt64) {
        self.ms = ms
        self.seq = seq
    }

    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let ms = UInt64(parts[0]), let seq = UInt64(parts[1]) else { return nil }
        self.init(ms: ms, seq: seq)
    }

    public var description: String { "\(ms)-\(seq)" }
    public static func < (a: EventId, b: EventId) -> Bool { (a.ms, a.seq) < (b.ms, b.seq) }
    public static let zero = EventId(ms: 0, seq: 0)
}
