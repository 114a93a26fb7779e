import Ledger
import ServiceCore
import XCTest

@testable import ClassicCore

final class SellTests: ClassicTestCase {
    /// A user owning `shares` of a new symbol priced `price`, bought through BUY + COMMIT_BUY.
    func owner(shares: Int64, price: Int64, cash: Int64 = 1_000_000) throws -> (String, String) {
        let u = try newUser(cash: cash)
        let sym = try newSymbol(price: price)
        try ok(.BUY, u, stock: sym, amount: Money.format(shares * price))
        try ok(.COMMIT_BUY, u)
        XCTAssertEqual(try holding(u, sym).free, shares)
        return (u, sym)
    }

    func testSellHoldsSharesThenCommitCreditsCash() throws {
        let (u, sym) = try owner(shares: 10, price: 1000)
        let cashBefore = try account(u)?.cash ?? 0
        source.setPrice(sym, 1250)
        clock.advance(60_000) // the old quote is stale: SELL gets a new one
        let sellTxn = txn()
        let data = try ok(.SELL, u, stock: sym, amount: "40.00", txn: sellTxn)
        XCTAssertEqual(data["shares"], .int(3))
        XCTAssertEqual(data["proceeds"], .string("37.50"))
        XCTAssertEqual(try holding(u, sym), Holding(free: 7, reserved: 3))
        XCTAssertEqual(try account(u)?.cash, cashBefore, "no cash moves at SELL")
        XCTAssertEqual(try entries(sellTxn, u).map(\.kind), [.userCommand, .quoteServer])
        let n = txn()
        try ok(.COMMIT_SELL, u, txn: n)
        XCTAssertEqual(try holding(u, sym), Holding(free: 7, reserved: 0))
        XCTAssertEqual(try account(u)?.cash, cashBefore + 3750)
        let e = try entries(n, u)
        XCTAssertEqual(e.map(\.kind), [.userCommand, .accountTransaction])
        XCTAssertEqual(e[1].action, "add")
        XCTAssertEqual(e[1].fundsCents, 3750)
    }

    func testCancelSellReturnsTheShares() throws {
        let (u, sym) = try owner(shares: 10, price: 1000)
        try ok(.SELL, u, stock: sym, amount: "50.00")
        XCTAssertEqual(try holding(u, sym), Holding(free: 5, reserved: 5))
        let n = txn()
        try ok(.CANCEL_SELL, u, txn: n)
        XCTAssertEqual(try holding(u, sym), Holding(free: 10, reserved: 0))
        XCTAssertEqual(try entries(n, u).map(\.kind), [.userCommand], "no cash moved")
        try fails(.CANCEL_SELL, u, .NO_PENDING_SELL)
    }

    func testSellStackAndExpiryAtSixtySeconds() throws {
        let (u, sym) = try owner(shares: 10, price: 1000)
        let t0 = clock.nowMillis()
        let first = txn()
        try ok(.SELL, u, stock: sym, amount: "20.00", txn: first)
        clock.set(t0 + 10_000)
        try ok(.SELL, u, stock: sym, amount: "30.00")
        XCTAssertEqual(try holding(u, sym), Holding(free: 5, reserved: 5))
        XCTAssertEqual(try ok(.COMMIT_SELL, u)["shares"], .int(3), "newest first")
        clock.set(t0 + 60_000)
        let e = try fails(.COMMIT_SELL, u, .NO_PENDING_SELL)
        XCTAssertTrue(e?.sentence.contains("expired") ?? false)
        XCTAssertEqual(try holding(u, sym), Holding(free: 7, reserved: 0))
        let sys = try entries(first, u).filter { $0.kind == .systemEvent }
        XCTAssertEqual(sys.count, 1)
        XCTAssertEqual(sys.first?.command, .CANCEL_SELL)
        XCTAssertEqual(sys.first?.fundsCents, 2000, "value at the quoted price")
        XCTAssertEqual(try entries(first, u).filter { $0.kind == .accountTransaction }.count, 0)
    }

    func testSellingSharesNotHeld() throws {
        let u = try newUser(cash: 100_000)
        let sym = try newSymbol(price: 1000)
        let before = try snapshot(u)
        try fails(.SELL, u, stock: sym, amount: "10.00", .NOT_OWNED)
        XCTAssertEqual(source.fetches(sym), 0, "NOT_OWNED is decided before the quote")
        XCTAssertEqual(try snapshot(u), before)
    }

    func testSellChecksThatNeedThePriceComeAfterTheQuote() throws {
        let (u, sym) = try owner(shares: 2, price: 1000)
        let before = try snapshot(u)
        let n = txn()
        try fails(.SELL, u, stock: sym, amount: "30.00", txn: n, .INSUFFICIENT_SHARES)
        XCTAssertEqual(try entries(n, u).map(\.kind), [.userCommand, .errorEvent], "cached quote: no hit entry")
        try fails(.SELL, u, stock: sym, amount: "9.99", .ZERO_SHARES)
        for bad in ["0.00", "-1.00", ""] { try fails(.SELL, u, stock: sym, amount: bad, .INVALID_ARGUMENT) }
        XCTAssertEqual(try snapshot(u), before)
        // All shares reserved: still "owns some" (§10.11), so it gets its quote and then fails.
        try ok(.SELL, u, stock: sym, amount: "20.00")
        let fetches = source.fetches(sym)
        clock.advance(1)
        try fails(.SELL, u, stock: sym, amount: "10.00", .INSUFFICIENT_SHARES)
        XCTAssertEqual(source.fetches(sym), fetches)
    }
}
