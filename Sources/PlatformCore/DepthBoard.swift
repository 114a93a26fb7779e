import OrderBook
import ServiceCore
import Synchronization

/// The top of each book (20 levels a side), rewritten by the engine thread for every stock a
/// batch touched and read by any worker without going near the books (like PriceBoard).
public final class DepthBoard: Sendable {
    public static let levels = 20
    private let bodies = Mutex<[Int64: [UInt8]]>([:])

    public init() {}

    /// The getDepth answer for a stock (nil: the engine has no book for it).
    public func responseBody(_ stockId: Int64) -> [UInt8]? { bodies.withLock { $0[stockId] } }

    func publish(_ stockId: Int64, _ book: OrderBook) {
        let body = Self.render(
            bids: book.depth(.buy, maxLevels: Self.levels), asks: book.depth(.sell, maxLevels: Self.levels))
        bodies.withLock { $0[stockId] = body }
    }

    func clear() { bodies.withLock { $0.removeAll() } }

    static func render(bids: [PriceLevel], asks: [PriceLevel]) -> [UInt8] {
        func side(_ levels: [PriceLevel]) -> JSON {
            .array(
                levels.map {
                    .object([
                        ("price", Money.json($0.price)), ("quantity", .int($0.quantity)),
                        ("orders", .int($0.orderCount)),
                    ])
                })
        }
        return JSON.object([("success", .bool(true)), ("data", .object([("bids", side(bids)), ("asks", side(asks))]))])
            .serializedBytes()
    }
}
