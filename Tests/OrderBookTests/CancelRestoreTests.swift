import OrderBook
import Testing

@Suite("Cancel and restore")
struct CancelRestoreTests {
    @Test func cancelRemovesARestingOrder() throws {
        var book = OrderBook()
        book.limit(1, owner: 1, .sell, qty: 5, price: 100)
        book.limit(2, owner: 2, .sell, qty: 6, price: 100)
        let cancelled = try book.cancel(orderId: 1, owner: 1)
        #expect(cancelled == RestingOrder(id: 1, owner: 1, side: .sell, price: 100, remaining: 5, sequence: 1))
        #expect(book.queue(.sell) == [[2, 6]])
        #expect(book.bestAsk == PriceLevel(price: 100, quantity: 6, orderCount: 1))
        #expect(book.order(id: 1) == nil)
    }

    @Test func cancelOfLastOrderRemovesTheLevel() throws {
        var book = OrderBook()
        book.limit(1, owner: 1, .buy, qty: 5, price: 100)
        book.limit(2, owner: 1, .buy, qty: 5, price: 99)
        try book.cancel(orderId: 1, owner: 1)
        #expect(book.depth(.buy).map(\.price) == [99])
        try book.cancel(orderId: 2, owner: 1)
        #expect(book.isEmpty && book.bestBid == nil && book.volume(.buy) == 0)
    }

    @Test func cancelOfPartiallyFilledOrderReturnsTheUnfilledRemainder() throws {
        var book = OrderBook()
        book.limit(1, owner: 1, .sell, qty: 550, price: 135)
        book.market(2, owner: 2, .buy, qty: 10)
        let cancelled = try book.cancel(orderId: 1, owner: 1)
        #expect(cancelled.remaining == 540)
        #expect(book.isEmpty)
        #expect(book.lastTradePrice == 135)
    }

    @Test func cancelErrors() throws {
        var book = OrderBook()
        book.limit(1, owner: 1, .sell, qty: 5, price: 100)
        #expect(throws: OrderBookError.notFound) { try book.cancel(orderId: 99, owner: 1) }
        #expect(throws: OrderBookError.notOwner) { try book.cancel(orderId: 1, owner: 2) }
        #expect(book.queue(.sell) == [[1, 5]])
        try book.cancel(orderId: 1, owner: 1)
        #expect(throws: OrderBookError.notFound) { try book.cancel(orderId: 1, owner: 1) }
        // A completely filled order is gone too.
        book.limit(2, owner: 1, .sell, qty: 5, price: 100)
        book.market(3, owner: 2, .buy, qty: 5)
        #expect(throws: OrderBookError.notFound) { try book.cancel(orderId: 2, owner: 1) }
    }

    @Test func cancelledOrderIsNoLongerMatched() throws {
        var book = OrderBook()
        book.limit(1, owner: 1, .sell, qty: 5, price: 100)
        book.limit(2, owner: 1, .sell, qty: 5, price: 101)
        try book.cancel(orderId: 1, owner: 1)
        let r = book.limit(3, owner: 2, .buy, qty: 2, price: 101)
        #expect(r.fills.map(\.tuple) == [[2, 3, 101, 2]])
    }

    @Test func restoreKeepsSequenceOrderWhateverTheInsertOrder() throws {
        var book = OrderBook()
        let orders = [
            RestingOrder(id: 5, owner: 1, side: .sell, price: 100, remaining: 1, sequence: 50),
            RestingOrder(id: 2, owner: 2, side: .sell, price: 100, remaining: 2, sequence: 20),
            RestingOrder(id: 9, owner: 3, side: .sell, price: 100, remaining: 3, sequence: 90),
            RestingOrder(id: 1, owner: 4, side: .sell, price: 100, remaining: 4, sequence: 10),
            RestingOrder(id: 7, owner: 5, side: .buy, price: 90, remaining: 4, sequence: 70),
            RestingOrder(id: 3, owner: 6, side: .sell, price: 99, remaining: 4, sequence: 30),
        ]
        for o in orders { try book.restore(o) }
        #expect(book.orders(.sell).map(\.id) == [3, 1, 2, 5, 9])
        #expect(book.orders(.buy).map(\.id) == [7])
        #expect(book.nextSequence == 91)
        #expect(book.order(id: 5) == orders[0])
        // New orders queue after everything restored.
        let r = book.limit(10, owner: 7, .sell, qty: 1, price: 100)
        #expect(r.sequence == 91)
        #expect(book.orders(.sell).map(\.id) == [3, 1, 2, 5, 9, 10])
        let sweep = book.market(11, owner: 8, .buy, qty: 14)
        #expect(sweep.fills.map(\.makerOrderId) == [3, 1, 2, 5, 9])
    }

    @Test func restoreValidates() throws {
        var book = OrderBook()
        try book.restore(RestingOrder(id: 1, owner: 1, side: .buy, price: 10, remaining: 1, sequence: 1))
        #expect(throws: OrderBookError.duplicateOrderId) {
            try book.restore(RestingOrder(id: 1, owner: 1, side: .sell, price: 10, remaining: 1, sequence: 2))
        }
        #expect(throws: OrderBookError.invalidQuantity) {
            try book.restore(RestingOrder(id: 2, owner: 1, side: .buy, price: 10, remaining: 0, sequence: 2))
        }
        #expect(throws: OrderBookError.invalidPrice) {
            try book.restore(RestingOrder(id: 2, owner: 1, side: .buy, price: 0, remaining: 1, sequence: 2))
        }
        #expect(throws: OrderBookError.overflow) {
            try book.restore(RestingOrder(id: 2, owner: 1, side: .buy, price: 3, remaining: .max / 2, sequence: 2))
        }
        #expect(book.restingOrderCount == 1)
    }

    @Test func rebuildFromSnapshotReproducesTheBook() throws {
        var rng = SeededRNG(seed: 42)
        var book = OrderBook()
        for id in Int64(1)...2000 {
            let side: Side = Bool.random(using: &rng) ? .buy : .sell
            let price = side == .buy ? Int64.random(in: 90...101, using: &rng) : Int64.random(in: 99...110, using: &rng)
            book.limit(
                id, owner: Int64.random(in: 1...5, using: &rng), side, qty: Int64.random(in: 1...9, using: &rng),
                price: price)
        }
        var snapshot = book.orders(.buy) + book.orders(.sell)
        snapshot.shuffle(using: &rng)
        var rebuilt = OrderBook()
        for o in snapshot { try rebuilt.restore(o) }
        #expect(rebuilt.orders(.buy) == book.orders(.buy))
        #expect(rebuilt.orders(.sell) == book.orders(.sell))
        #expect(rebuilt.depth(.buy) == book.depth(.buy) && rebuilt.depth(.sell) == book.depth(.sell))
        #expect(rebuilt.nextSequence <= book.nextSequence)
    }
}

@Suite("Overflow")
struct OverflowTests {
    @Test func limitNotionalMustFit() {
        var book = OrderBook()
        #expect(book.limit(1, owner: 1, .buy, qty: .max / 100 + 1, price: 100).rejection == .overflow)
        #expect(book.limit(2, owner: 1, .sell, qty: .max / 100, price: 100).outcome == .rested(remaining: .max / 100))
    }

    @Test func sideVolumeMustFit() {
        var book = OrderBook()
        book.limit(1, owner: 1, .sell, qty: .max / 2, price: 1)
        book.limit(2, owner: 1, .sell, qty: .max / 2, price: 1)
        #expect(book.limit(3, owner: 1, .sell, qty: 2, price: 1).rejection == .overflow)
        #expect(book.volume(.sell) == .max / 2 * 2)
    }

    @Test func sellProceedsMustFit() {
        var book = OrderBook()
        // Two bids each with a representable notional; selling into both would not be.
        book.limit(1, owner: 1, .buy, qty: 1, price: .max / 2 + 1)
        book.limit(2, owner: 2, .buy, qty: 1, price: .max / 2 + 1)
        #expect(book.limit(3, owner: 3, .sell, qty: 2, price: 1).rejection == .overflow)
        #expect(book.market(4, owner: 3, .sell, qty: 2).rejection == .overflow)
        #expect(throws: OrderBookError.overflow) { try book.quoteCost(side: .sell, quantity: 2, owner: 3) }
        #expect(book.orders(.buy).count == 2)
        // One share is fine.
        let one = book.market(5, owner: 3, .sell, qty: 1)
        #expect(one.outcome == .filled && one.cost == .max / 2 + 1)
    }

    @Test func marketBuyCostMustFit() {
        var book = OrderBook()
        book.limit(1, owner: 1, .sell, qty: 1, price: .max - 10)
        book.limit(2, owner: 1, .sell, qty: 1, price: .max - 10)
        #expect(book.market(3, owner: 2, .buy, qty: 2).rejection == .overflow)
        #expect(book.market(4, owner: 2, .buy, qty: 2, maxCost: .max).rejection == .overflow)
        #expect(book.restingOrderCount == 2)
        #expect(book.market(5, owner: 2, .buy, qty: 1).cost == .max - 10)
    }
}

@Suite("Capacity hints")
struct CapacityTests {
    @Test(arguments: [Int.min, -1, 0, 1, 1 << 40, Int.max])
    func anyHintWorks(expectedOrders: Int) {
        var book = OrderBook(expectedOrders: expectedOrders)
        for id in Int64(1)...300 { book.limit(id, owner: id % 3, .buy, qty: 1, price: 100 + id % 7) }
        #expect(book.restingOrderCount == 300)
        #expect(book.market(1000, owner: 99, .sell, qty: 300).outcome == .filled)
        #expect(book.isEmpty)
    }
}
