import OrderBook
import Testing

@Suite("Limit orders")
struct LimitOrderTests {
    @Test func nonCrossingOrdersRestOnTheirSide() {
        var book = OrderBook()
        let r1 = book.limit(1, owner: 10, .buy, qty: 5, price: 99)
        let r2 = book.limit(2, owner: 11, .sell, qty: 7, price: 101)
        #expect(r1.outcome == .rested(remaining: 5))
        #expect(r2.outcome == .rested(remaining: 7))
        #expect(r1.fills.isEmpty && r2.fills.isEmpty)
        #expect(book.bestBid == PriceLevel(price: 99, quantity: 5, orderCount: 1))
        #expect(book.bestAsk == PriceLevel(price: 101, quantity: 7, orderCount: 1))
        #expect(book.lastTradePrice == nil)
        #expect(book.currentPrice == 101)
        #expect(book.restingOrderCount == 2)
        #expect(
            book.order(id: 1)
                == RestingOrder(id: 1, owner: 10, side: .buy, price: 99, remaining: 5, sequence: r1.sequence))
    }

    @Test func sequencesIncreaseFromOne() {
        var book = OrderBook()
        #expect(book.limit(1, owner: 1, .buy, qty: 1, price: 10).sequence == 1)
        #expect(book.limit(2, owner: 1, .buy, qty: 1, price: 10).sequence == 2)
        #expect(book.nextSequence == 3)
    }

    @Test func priceLevelsAreSortedBestFirst() {
        var book = OrderBook()
        for (i, p) in [100, 97, 103, 99, 101].enumerated() {
            book.limit(Int64(i + 1), owner: 1, .buy, qty: 1, price: Int64(p))
            book.limit(Int64(i + 11), owner: 2, .sell, qty: 2, price: Int64(p + 10))
        }
        #expect(book.depth(.buy).map(\.price) == [103, 101, 100, 99, 97])
        #expect(book.depth(.sell).map(\.price) == [107, 109, 110, 111, 113])
        #expect(
            book.depth(.sell, maxLevels: 2) == [
                PriceLevel(price: 107, quantity: 2, orderCount: 1),
                PriceLevel(price: 109, quantity: 2, orderCount: 1),
            ])
        #expect(book.depth(.buy, maxLevels: 0).isEmpty)
    }

    @Test func buyTakesBestPriceFirst() {
        var book = OrderBook()
        book.limit(1, owner: 1, .sell, qty: 5, price: 102)
        book.limit(2, owner: 1, .sell, qty: 5, price: 100)
        book.limit(3, owner: 1, .sell, qty: 5, price: 101)
        let r = book.limit(4, owner: 2, .buy, qty: 3, price: 105)
        #expect(r.outcome == .filled)
        #expect(r.fills.map(\.tuple) == [[2, 4, 100, 3]])
        #expect(r.fills[0].makerRemaining == 2)
        #expect(r.fills[0].makerOwner == 1)
        #expect(r.cost == 300)
    }

    @Test func sellTakesHighestBidFirst() {
        var book = OrderBook()
        book.limit(1, owner: 1, .buy, qty: 5, price: 98)
        book.limit(2, owner: 1, .buy, qty: 5, price: 100)
        let r = book.limit(3, owner: 2, .sell, qty: 7, price: 90)
        #expect(r.fills.map(\.tuple) == [[2, 3, 100, 5], [1, 3, 98, 2]])
        #expect(r.outcome == .filled)
        #expect(r.cost == 500 + 196)
        #expect(book.lastTradePrice == 98)
        #expect(book.queue(.buy) == [[1, 3]])
    }

    @Test func timePriorityWithinALevel() {
        var book = OrderBook()
        book.limit(1, owner: 1, .sell, qty: 2, price: 100)
        book.limit(2, owner: 2, .sell, qty: 2, price: 100)
        book.limit(3, owner: 3, .sell, qty: 2, price: 100)
        let r = book.limit(4, owner: 9, .buy, qty: 5, price: 100)
        #expect(r.fills.map(\.tuple) == [[1, 4, 100, 2], [2, 4, 100, 2], [3, 4, 100, 1]])
        #expect(r.fills.map(\.makerRemaining) == [0, 0, 1])
        #expect(book.queue(.sell) == [[3, 1]])
        #expect(book.order(id: 1) == nil && book.order(id: 2) == nil)
    }

    @Test func partiallyFilledMakerKeepsItsPlace() {
        var book = OrderBook()
        book.limit(1, owner: 1, .sell, qty: 10, price: 100)
        book.limit(2, owner: 2, .sell, qty: 10, price: 100)
        book.limit(3, owner: 9, .buy, qty: 4, price: 100)
        #expect(book.queue(.sell) == [[1, 6], [2, 10]])
        let r = book.limit(4, owner: 9, .buy, qty: 8, price: 100)
        #expect(r.fills.map(\.tuple) == [[1, 4, 100, 6], [2, 4, 100, 2]])
        #expect(book.queue(.sell) == [[2, 8]])
    }

    @Test func crossingTakerRestsItsRemainderAtItsLimit() {
        var book = OrderBook()
        book.limit(1, owner: 1, .sell, qty: 3, price: 100)
        book.limit(2, owner: 1, .sell, qty: 3, price: 101)
        book.limit(3, owner: 1, .sell, qty: 3, price: 104)
        let r = book.limit(4, owner: 2, .buy, qty: 10, price: 102)
        #expect(r.fills.map(\.tuple) == [[1, 4, 100, 3], [2, 4, 101, 3]])
        #expect(r.outcome == .rested(remaining: 4))
        #expect(r.filledQuantity == 6)
        // The fills are at the makers' prices, below the limit: the caller refunds 6×102 − cost.
        #expect(r.cost == 300 + 303)
        #expect(book.bestBid == PriceLevel(price: 102, quantity: 4, orderCount: 1))
        #expect(book.bestAsk?.price == 104)
        #expect(book.order(id: 4)?.remaining == 4)
    }

    @Test func limitStopsAtItsPrice() {
        var book = OrderBook()
        book.limit(1, owner: 1, .buy, qty: 3, price: 100)
        book.limit(2, owner: 1, .buy, qty: 3, price: 99)
        let r = book.limit(3, owner: 2, .sell, qty: 5, price: 100)
        #expect(r.fills.map(\.tuple) == [[1, 3, 100, 3]])
        #expect(r.outcome == .rested(remaining: 2))
        #expect(book.bestAsk?.price == 100 && book.bestBid?.price == 99)
    }

    @Test func multiLevelSweepRemovesEmptiedLevels() {
        var book = OrderBook()
        for i in 0..<10 { book.limit(Int64(i + 1), owner: 1, .sell, qty: 1, price: 100 + Int64(i)) }
        let r = book.limit(100, owner: 2, .buy, qty: 10, price: 109)
        #expect(r.outcome == .filled)
        #expect(r.fills.map(\.price) == Array(100...109))
        #expect(book.depth(.sell).isEmpty)
        #expect(book.isEmpty)
        #expect(book.volume(.sell) == 0)
        #expect(book.lastTradePrice == 109)
        #expect(book.currentPrice == 109) // no ask: falls back to the last trade
    }

    @Test func selfTradeIsSkippedAndOwnOrderKeepsPriority() {
        var book = OrderBook()
        book.limit(1, owner: 7, .sell, qty: 5, price: 100) // own
        book.limit(2, owner: 8, .sell, qty: 5, price: 100)
        book.limit(3, owner: 7, .sell, qty: 5, price: 101) // own
        book.limit(4, owner: 9, .sell, qty: 5, price: 102)
        let r = book.limit(5, owner: 7, .buy, qty: 8, price: 102)
        #expect(r.fills.map(\.tuple) == [[2, 5, 100, 5], [4, 5, 102, 3]])
        #expect(book.queue(.sell) == [[1, 5], [3, 5], [4, 2]])
        // Another owner still meets order 1 first: it kept its place.
        let r2 = book.limit(6, owner: 8, .buy, qty: 1, price: 100)
        #expect(r2.fills.map(\.tuple) == [[1, 6, 100, 1]])
    }

    @Test func takerSkippingOnlyOwnOrdersRestsAcrossThem() {
        var book = OrderBook()
        book.limit(1, owner: 7, .sell, qty: 5, price: 100)
        let r = book.limit(2, owner: 7, .buy, qty: 5, price: 101)
        #expect(r.fills.isEmpty)
        #expect(r.outcome == .rested(remaining: 5))
        // The owner's bid sits above the owner's ask; others trade with each side normally.
        #expect(book.bestBid?.price == 101 && book.bestAsk?.price == 100)
        let sell = book.limit(3, owner: 8, .sell, qty: 2, price: 100)
        #expect(sell.fills.map(\.tuple) == [[2, 3, 101, 2]])
        let buy = book.limit(4, owner: 8, .buy, qty: 2, price: 100)
        #expect(buy.fills.map(\.tuple) == [[1, 4, 100, 2]])
    }

    @Test func invalidLimitOrdersAreRejectedWithoutChange() {
        var book = OrderBook()
        book.limit(1, owner: 1, .sell, qty: 5, price: 100)
        #expect(book.limit(2, owner: 2, .buy, qty: 0, price: 100).rejection == .invalidQuantity)
        #expect(book.limit(3, owner: 2, .buy, qty: -4, price: 100).rejection == .invalidQuantity)
        #expect(book.limit(4, owner: 2, .buy, qty: 1, price: 0).rejection == .invalidPrice)
        #expect(book.limit(5, owner: 2, .buy, qty: 1, price: -100).rejection == .invalidPrice)
        #expect(book.limit(1, owner: 2, .buy, qty: 1, price: 100).rejection == .duplicateOrderId)
        let rejected = book.limit(6, owner: 2, .buy, qty: 0, price: 100)
        #expect(rejected.fills.isEmpty && rejected.sequence == 0 && rejected.filledQuantity == 0)
        #expect(book.queue(.sell) == [[1, 5]])
        #expect(book.nextSequence == 2)
    }

    @Test func filledIdsCanBeReused() {
        // Ids only need to be unique among resting orders.
        var book = OrderBook()
        book.limit(1, owner: 1, .sell, qty: 5, price: 100)
        book.limit(2, owner: 2, .buy, qty: 5, price: 100)
        #expect(book.limit(1, owner: 1, .sell, qty: 5, price: 100).outcome == .rested(remaining: 5))
    }

    @Test func explicitSequences() {
        var book = OrderBook()
        let a = book.submit(.limit(id: 1, owner: 1, side: .buy, quantity: 1, price: 10), sequence: 50)
        #expect(a.sequence == 50 && book.nextSequence == 51)
        let b = book.submit(.limit(id: 2, owner: 1, side: .buy, quantity: 1, price: 10), sequence: 50)
        #expect(b.rejection == .sequenceOutOfOrder)
        #expect(book.limit(3, owner: 1, .buy, qty: 1, price: 10).sequence == 51)
    }

    @Test func allocationFreeVariantAppendsToTheCallersBuffer() {
        var book = OrderBook()
        book.limit(1, owner: 1, .sell, qty: 2, price: 100)
        book.limit(2, owner: 1, .sell, qty: 2, price: 101)
        var buffer = [Fill(makerOrderId: 0, makerOwner: 0, takerOrderId: 0, price: 0, quantity: 0, makerRemaining: 0)]
        let report = book.submit(.limit(id: 3, owner: 2, side: .buy, quantity: 3, price: 101), fills: &buffer)
        #expect(report.outcome == .filled && report.filledQuantity == 3 && report.cost == 200 + 101)
        #expect(buffer.dropFirst().map(\.tuple) == [[1, 3, 100, 2], [2, 3, 101, 1]])
    }
}
