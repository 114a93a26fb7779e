import OrderBook
import Testing

@Suite("Market orders (fill-or-kill)")
struct MarketOrderTests {
    /// Asks: 100×3 (owner 1), 101×3 (owner 2), 103×4 (owner 1).
    func seeded() -> OrderBook {
        var book = OrderBook()
        book.limit(1, owner: 1, .sell, qty: 3, price: 100)
        book.limit(2, owner: 2, .sell, qty: 3, price: 101)
        book.limit(3, owner: 1, .sell, qty: 4, price: 103)
        return book
    }

    @Test func marketBuyWalksTheAsks() {
        var book = seeded()
        let r = book.market(10, owner: 9, .buy, qty: 7)
        #expect(r.outcome == .filled)
        #expect(r.fills.map(\.tuple) == [[1, 10, 100, 3], [2, 10, 101, 3], [3, 10, 103, 1]])
        #expect(r.cost == 300 + 303 + 103)
        #expect(r.filledQuantity == 7)
        #expect(book.queue(.sell) == [[3, 3]])
        #expect(book.lastTradePrice == 103)
        #expect(book.order(id: 10) == nil) // market orders never rest
    }

    @Test func marketSellWalksTheBids() {
        var book = OrderBook()
        book.limit(1, owner: 1, .buy, qty: 2, price: 50)
        book.limit(2, owner: 1, .buy, qty: 2, price: 52)
        let r = book.market(3, owner: 2, .sell, qty: 3)
        #expect(r.fills.map(\.tuple) == [[2, 3, 52, 2], [1, 3, 50, 1]])
        #expect(r.cost == 154)
    }

    @Test func rejectsWhenLiquidityIsShortAndChangesNothing() {
        var book = seeded()
        let before = book.orders(.sell)
        let r = book.market(10, owner: 9, .buy, qty: 11)
        #expect(r.rejection == .insufficientLiquidity)
        #expect(r.fills.isEmpty && r.sequence == 0)
        #expect(book.orders(.sell) == before)
        #expect(book.lastTradePrice == nil)
        #expect(book.market(11, owner: 9, .sell, qty: 1).rejection == .insufficientLiquidity) // no bids
    }

    @Test func ownOrdersDoNotCountAsLiquidity() {
        var book = seeded()
        // Owner 1 has 7 of the 10 shares; only owner 2's 3 are available to it.
        #expect(book.market(10, owner: 1, .buy, qty: 4).rejection == .insufficientLiquidity)
        #expect(book.orders(.sell).count == 3)
        let r = book.market(11, owner: 1, .buy, qty: 3)
        #expect(r.fills.map(\.tuple) == [[2, 11, 101, 3]])
        #expect(book.queue(.sell) == [[1, 3], [3, 4]])
    }

    @Test func ownOrdersInsideALevelAreSkippedOnTheWalk() throws {
        var book = OrderBook()
        book.limit(1, owner: 1, .sell, qty: 5, price: 100)
        book.limit(2, owner: 2, .sell, qty: 5, price: 100)
        book.limit(3, owner: 1, .sell, qty: 5, price: 100)
        book.limit(4, owner: 3, .sell, qty: 5, price: 100)
        #expect(try book.quoteCost(side: .buy, quantity: 20, owner: 1) == CostQuote(fillable: 10, cost: 1000))
        #expect(book.market(5, owner: 1, .buy, qty: 11).rejection == .insufficientLiquidity)
        let r = book.market(6, owner: 1, .buy, qty: 8)
        #expect(r.fills.map(\.tuple) == [[2, 6, 100, 5], [4, 6, 100, 3]])
        #expect(book.queue(.sell) == [[1, 5], [3, 5], [4, 2]])
    }

    @Test func maxCostIsFillOrKillOnFunds() {
        var book = seeded()
        // 7 shares cost 300 + 303 + 103 = 706.
        #expect(book.market(10, owner: 9, .buy, qty: 7, maxCost: 705).rejection == .exceedsMaxCost)
        #expect(book.orders(.sell).count == 3 && book.volume(.sell) == 10)
        let r = book.market(11, owner: 9, .buy, qty: 7, maxCost: 706)
        #expect(r.outcome == .filled && r.cost == 706)
        #expect(book.market(12, owner: 9, .buy, qty: 1, maxCost: -1).rejection == .invalidPrice)
    }

    @Test func quoteCostPreviewsWithoutChangingTheBook() throws {
        let book = seeded()
        #expect(try book.quoteCost(side: .buy, quantity: 4, owner: 9) == CostQuote(fillable: 4, cost: 401))
        #expect(try book.quoteCost(side: .buy, quantity: 50, owner: 9) == CostQuote(fillable: 10, cost: 1015))
        #expect(try book.quoteCost(side: .buy, quantity: 50, owner: 2) == CostQuote(fillable: 7, cost: 712))
        #expect(try book.quoteCost(side: .sell, quantity: 5, owner: 9) == CostQuote(fillable: 0, cost: 0))
        #expect(throws: OrderBookError.invalidQuantity) { try book.quoteCost(side: .buy, quantity: 0, owner: 9) }
        #expect(book.volume(.sell) == 10)
    }

    @Test func invalidMarketOrders() {
        var book = seeded()
        #expect(book.market(10, owner: 9, .buy, qty: 0).rejection == .invalidQuantity)
        #expect(book.market(1, owner: 9, .buy, qty: 1).rejection == .duplicateOrderId)
        #expect(book.volume(.sell) == 10)
    }

    @Test func platformScenarioManyBuyersOneSellOrder() {
        // The load plan's hot spot: one huge resting sell, a stream of 10-share market buys.
        var book = OrderBook()
        book.limit(1, owner: 1, .sell, qty: 12_488_000_000, price: 13_500)
        for i in 0..<1000 {
            let r = book.market(Int64(100 + i), owner: Int64(2 + i), .buy, qty: 10, maxCost: 1_000_000)
            #expect(r.outcome == .filled && r.cost == 135_000)
            #expect(r.fills.count == 1 && r.fills[0].makerRemaining == 12_488_000_000 - Int64(i + 1) * 10)
        }
        let left: Int64 = 12_488_000_000 - 10_000
        #expect(book.order(id: 1)?.remaining == left)
        #expect(book.currentPrice == 13_500)
    }
}
