import ServiceCore
import Synchronization

/// The getStockPrices answer, rebuilt by the engine thread whenever a book's price changes and
/// read by any worker without touching the books (readers never wait for matching).
public final class PriceBoard: Sendable {
    public struct Entry: Sendable, Equatable {
        public var stockId: Int64
        public var name: String
        public var priceCents: Int64
    }

    private let state = Mutex<(entries: [Entry], body: [UInt8])>(([], PriceBoard.render([])))

    public init() {}

    /// Current prices in stock creation order (ascending id).
    public var entries: [Entry] { state.withLock { $0.entries } }

    /// The whole response body, serialized once per change.
    public var responseBody: [UInt8] { state.withLock { $0.body } }

    func publish(_ entries: [Entry]) {
        let sorted = entries.sorted { $0.stockId < $1.stockId }
        let changed = state.withLock { $0.entries != sorted }
        guard changed else { return }
        let body = PriceBoard.render(sorted)
        state.withLock { $0 = (sorted, body) }
    }

    static func render(_ entries: [Entry]) -> [UInt8] {
        let data = JSON.array(
            entries.map {
                .object([
                    ("stock_id", .string(String($0.stockId))), ("stock_name", .string($0.name)),
                    ("current_price", Money.json($0.priceCents)),
                ])
            })
        return JSON.object([("success", .bool(true)), ("data", data)]).serializedBytes()
    }
}
