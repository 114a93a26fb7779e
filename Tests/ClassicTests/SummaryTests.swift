import Ledger
import ServiceCore
import XCTest

@testable import ClassicCore

final class SummaryTests: ClassicTestCase {
    func testDisplaySummaryShowsCashHoldingsPendingTriggersAndHistory() throws {
        let u = try newUser(cash: 100_000)
        let sym = try newSymbol(price: 1000)
        let two = try newSymbol(price: 2000)
        try ok(.BUY, u, stock: sym, amount: "50.00")
        try ok(.COMMIT_BUY, u)
        clock.advance(5_000)
        try ok(.BUY, u, stock: two, amount: "40.00")
        try ok(.SELL, u, stock: sym, amount: "20.00")
        try ok(.SET_BUY_AMOUNT, u, stock: two, amount: "30.00")
        try ok(.SET_SELL_AMOUNT, u, stock: sym, amount: "20.00")
        try ok(.SET_SELL_TRIGGER, u, stock: sym, amount: "15.00") // 1 share; not due at 10.00
        clock.advance(1_500)
        let n = txn()
        let s = try ok(.DISPLAY_SUMMARY, u, txn: n)
        XCTAssertEqual(s["cash"]?["free"], .string("880.00")) // 1000 - 50 - 40 - 30
        XCTAssertEqual(s["cash"]?["reserved"], .string("70.00"))
        XCTAssertEqual(
            s["holdings"], .array([.object([("stock", .string(sym)), ("shares", .int(2)), ("reserved", .int(3))])]))
        XCTAssertEqual(s["pendingBuys"]?[0]?["stock"], .string(two))
        XCTAssertEqual(s["pendingBuys"]?[0]?["secondsLeft"], .number("58.500"))
        XCTAssertEqual(s["pendingSells"]?[0]?["shares"], .int(2))
        let triggers = try XCTUnwrap(s["triggers"]?.arrayValue)
        XCTAssertEqual(triggers.count, 2)
        let buyTrigger = try XCTUnwrap(triggers.first { $0["side"] == .string("buy") })
        XCTAssertEqual(buyTrigger["triggerPrice"], .null)
        XCTAssertEqual(buyTrigger["reservedCash"], .string("30.00"))
        let sellTrigger = try XCTUnwrap(triggers.first { $0["side"] == .string("sell") })
        XCTAssertEqual(sellTrigger["triggerPrice"], .string("15.00"))
        XCTAssertEqual(sellTrigger["reservedShares"], .int(1))
        XCTAssertEqual(s["recent"]?[0]?["command"], .string("SET_SELL_TRIGGER"), "newest first")
        XCTAssertEqual(try entries(n, u).map(\.kind), [.userCommand], "DISPLAY_SUMMARY logs only its userCommand")

        // After 60 s the summary already shows the holds released (lazy expiry).
        clock.advance(60_000)
        let later = try ok(.DISPLAY_SUMMARY, u)
        XCTAssertEqual(later["pendingBuys"], .array([]))
        XCTAssertEqual(later["pendingSells"], .array([]))
        XCTAssertEqual(later["cash"]?["free"], .string("920.00"))
        XCTAssertEqual(later["holdings"]?[0]?["shares"], .int(4))
    }
}
