import OrderBook
import Testing

@Suite("Amend")
struct AmendTests {
    /// Bids at 100: ids 1 (5), 2 (5), 3 (5) in that order; an ask 105×4 by owner 9.
    func book() -> OrderBook {
        var book = OrderBook()
        book.limit(1, owner: 1, .buy, qty: 5, price: 100)
        book.limit(2, owner: 2, .buy, qty: 5, price: 100)
        book.limit(3, owner: 3, .buy, qty: 5, price: 100)
        book.limit(4, owner: 9, .sell, qty: 4, price: 105)
        return book
    }

    @Test func loweringTheQuantityKeepsThePlace() throws {
        var b = book()
        var fills: [Fill] = []
        let a = try b.amend(orderId: 1, owner: 1, quantity: 2, fills: &fills)
        #expect(a.keptPriority && a.previous.remaining == 5 && a.report.sequence == 1)
        #expect(a.report.outcome == .rested(remaining: 2))
        #expect(b.queue(.buy) == [[1, 2], [2, 5], [3, 5]])
        #expect(b.volume(.buy) == 12 && b.bestBid == PriceLevel(price: 100, quantity: 12, orderCount: 3))
    }

    @Test func raisingTheQuantityGoesToTheBack() throws {
        var b = book()
        var fills: [Fill] = []
        let a = try b.amend(orderId: 1, owner: 1, quantity: 6, fills: &fills)
        #expect(!a.keptPriority && a.report.sequence == 5 && a.report.outcome == .rested(remaining: 6))
        #expect(b.queue(.buy) == [[2, 5], [3, 5], [1, 6]])
        #expect(b.volume(.buy) == 16)
    }

    @Test func repricingMovesTheOrderToTheNewLevel() throws {
        var b = book()
        var fills: [Fill] = []
        let a = try b.amend(orderId: 2, owner: 2, price: 101, fills: &fills)
        #expect(!a.keptPriority && a.previous.price == 100 && fills.isEmpty)
        #expect(
            b.depth(.buy) == [
                PriceLevel(price: 101, quantity: 5, orderCount: 1),
                PriceLevel(price: 100, quantity: 10, orderCount: 2),
            ])
        // Back to the old price: behind the orders that stayed there.
        _ = try b.amend(orderId: 2, owner: 2, price: 100, fills: &fills)
        #expect(b.queue(.buy) == [[1, 5], [3, 5], [2, 5]])
    }

    @Test func repricingAcrossTheSpreadTradesAndRestsTheRest() throws {
        var b = book()
        var fills: [Fill] = []
        let a = try b.amend(orderId: 3, owner: 3, price: 106, fills: &fills)
        #expect(fills.map(\.tuple) == [[4, 3, 105, 4]])
        #expect(a.report.outcome == .rested(remaining: 1) && a.report.cost == 420)
        #expect(b.bestBid == PriceLevel(price: 106, quantity: 1, orderCount: 1) && b.bestAsk == nil)
        #expect(b.lastTradePrice == 105)
    }

    @Test func repricingThatFillsCompletelyRemovesTheOrder() throws {
        var b = book()
        var fills: [Fill] = []
        let a = try b.amend(orderId: 3, owner: 3, quantity: 4, price: 105, fills: &fills)
        #expect(a.report.outcome == .filled && !a.keptPriority)
        #expect(b.order(id: 3) == nil && b.orderCount(.buy) == 2 && b.bestAsk == nil)
    }

    @Test func errorsChangeNothing() {
        var b = book()
        let before = b.orders(.buy)
        var fills: [Fill] = []
        #expect(throws: OrderBookError.notFound) { try b.amend(orderId: 77, owner: 1, quantity: 1, fills: &fills) }
        #expect(throws: OrderBookError.notOwner) { try b.amend(orderId: 1, owner: 2, quantity: 1, fills: &fills) }
        #expect(throws: OrderBookError.invalidQuantity) {
            try b.amend(orderId: 1, owner: 1, quantity: 0, fills: &fills)
        }
        #expect(throws: OrderBookError.invalidPrice) { try b.amend(orderId: 1, owner: 1, price: -3, fills: &fills) }
        #expect(throws: OrderBookError.overflow) {
            try b.amend(orderId: 1, owner: 1, quantity: Int64.max / 100 + 1, fills: &fills)
        }
        #expect(throws: OrderBookError.sequenceOutOfOrder) {
            try b.amend(orderId: 1, owner: 1, price: 99, sequence: 1, fills: &fills)
        }
        #expect(b.orders(.buy) == before && fills.isEmpty)
    }

    @Test func selfTradeIsSkippedWhenRepricing() throws {
        var b = OrderBook()
        b.limit(1, owner: 5, .sell, qty: 3, price: 101)
        b.limit(2, owner: 6, .sell, qty: 3, price: 102)
        b.limit(3, owner: 5, .buy, qty: 2, price: 99)
        var fills: [Fill] = []
        _ = try b.amend(orderId: 3, owner: 5, price: 102, fills: &fills)
        #expect(fills.map(\.tuple) == [[2, 3, 102, 2]])
        #expect(b.order(id: 1)?.remaining == 3)
    }
}
