import Synchronization

/// The current prices for the `reset` event, as the engines last wrote them to Redis's `prices`
/// hash; refreshed by `RedisEventFeed` whenever price events arrive (or it reconnects).
public final class PriceSnapshot: Sendable {
    public struct Entry: Sendable, Equatable {
        public var stockId: Int64
        public var name: String
        public var priceCents: Int64

        public init(stockId: Int64, name: String, priceCents: Int64) {
            self.stockId = stockId
            self.name = name
            self.priceCents = priceCents
        }
    }

    private let state = Mutex<[Entry]>([])

    public init() {}

    /// In stock id order (creation order).
    public var entries: [Entry] { state.withLock { $0 } }

    public func replace(_ entries: [Entry]) {
        let sorted = entries.sorted { $0.stockId < $1.stockId }
        state.withLock { $0 = sorted }
    }
}
