import OrderBook
import Testing

@Suite("Time in force")
struct TimeInForceTests {
    /// Asks 101×3 (owner 1), 102×4 (owner 2), 104×5 (owner 3).
    func askLadder() -> OrderBook {
        var book = OrderBook()
        book.limit(1, owner: 1, .sell, qty: 3, price: 101)
        book.limit(2, owner: 2, .sell, qty: 4, price: 102)
        book.limit(3, owner: 3, .sell, qty: 5, price: 104)
        return book
    }

    @Test func iocFillsWhatCrossesAndCancelsTheRest() {
        var book = askLadder()
        let r = book.submit(.limit(id: 9, owner: 7, side: .buy, quantity: 10, price: 102, timeInForce: .ioc))
        #expect(r.outcome == .cancelled(remaining: 3))
        #expect(r.fills.map(\.tuple) == [[1, 9, 101, 3], [2, 9, 102, 4]])
        #expect(r.cost == 3 * 101 + 4 * 102)
        #expect(book.order(id: 9) == nil)
        #expect(book.bestBid == nil)
        #expect(book.depth(.sell) == [PriceLevel(price: 104, quantity: 5, orderCount: 1)])
        #expect(book.lastTradePrice == 102)
    }

    @Test func iocThatCrossesNothingIsCancelledWholeButNumbered() {
        var book = askLadder()
        let r = book.submit(.limit(id: 9, owner: 7, side: .buy, quantity: 2, price: 100, timeInForce: .ioc))
        #expect(r.outcome == .cancelled(remaining: 2))
        #expect(r.fills.isEmpty && r.sequence == 4)
        #expect(book.restingOrderCount == 3 && book.lastTradePrice == nil)
    }

    @Test func fokFillsCompletelyOrLeavesTheBookUntouched() {
        var book = askLadder()
        let before = book.orders(.sell)
        // 12 shares exist but only 7 are at or below 102: rejected, nothing changes.
        let no = book.submit(.limit(id: 9, owner: 7, side: .buy, quantity: 8, price: 102, timeInForce: .fok))
        #expect(no.outcome == .rejected(.insufficientLiquidity))
        #expect(no.fills.isEmpty && no.sequence == 0)
        #expect(book.orders(.sell) == before && book.nextSequence == 4 && book.lastTradePrice == nil)
        // Exactly what crosses: filled.
        let yes = book.submit(.limit(id: 10, owner: 7, side: .buy, quantity: 7, price: 102, timeInForce: .fok))
        #expect(yes.outcome == .filled && yes.cost == 3 * 101 + 4 * 102)
        #expect(book.depth(.sell).map(\.price) == [104])
    }

    @Test func fokSkipsTheOwnersOrdersWhenCountingLiquidity() {
        var book = askLadder()
        // Owner 1's own 3 shares at 101 do not count: only 4 remain at ≤ 102.
        let r = book.submit(.limit(id: 9, owner: 1, side: .buy, quantity: 5, price: 102, timeInForce: .fok))
        #expect(r.outcome == .rejected(.insufficientLiquidity))
        #expect(book.order(id: 1)?.remaining == 3 && book.order(id: 2)?.remaining == 4)
    }

    @Test func fokSellPartiallyTakesAMakerWhenFilled() {
        var book = OrderBook()
        book.limit(1, owner: 1, .buy, qty: 10, price: 50)
        let r = book.submit(.limit(id: 2, owner: 2, side: .sell, quantity: 4, price: 49, timeInForce: .fok))
        #expect(r.outcome == .filled && r.fills.map(\.makerRemaining) == [6])
        #expect(book.order(id: 1)?.remaining == 6)
    }

    @Test func marketOrderRejectedOnFundsLeavesMakersWhole() {
        var book = askLadder()
        let r = book.market(9, owner: 7, .buy, qty: 8, maxCost: 3 * 101 + 4 * 102 + 104 - 1)
        #expect(r.outcome == .rejected(.exceedsMaxCost))
        #expect(book.queue(.sell) == [[1, 3], [2, 4], [3, 5]])
        #expect(book.volume(.sell) == 12)
        let ok = book.market(10, owner: 7, .buy, qty: 8, maxCost: 3 * 101 + 4 * 102 + 104)
        #expect(ok.outcome == .filled && book.queue(.sell) == [[3, 4]])
    }
}
