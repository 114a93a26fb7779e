import Ledger
import ServiceCore
import XCTest

@testable import ClassicCore

final class SellTriggerTests: ClassicTestCase {
    func owner(shares: Int64, price: Int64) throws -> (String, String) {
        let u = try newUser(cash: 1_000_000)
        let sym = try newSymbol(price: price)
        try ok(.BUY, u, stock: sym, amount: Money.format(shares * price))
        try ok(.COMMIT_BUY, u)
        try park(sym, 1) // 0.01: no sell trigger of these tests is due unless a test says so
        return (u, sym)
    }

    func testSetSellAmountNeedsSomeSharesAndReservesNothing() throws {
        let u = try newUser(cash: 10_000)
        let sym = try newSymbol(price: 1000)
        try fails(.SET_SELL_AMOUNT, u, stock: sym, amount: "10.00", .NOT_OWNED)
        try fails(.SET_SELL_TRIGGER, u, stock: sym, amount: "10.00", .NO_SELL_AMOUNT)
        try fails(.CANCEL_SET_SELL, u, stock: sym, .NO_SELL_AMOUNT)
        let (o, s) = try owner(shares: 10, price: 1000)
        for bad in ["0.00", "-1.00", "1.5.0"] {
            try fails(.SET_SELL_AMOUNT, o, stock: s, amount: bad, .INVALID_ARGUMENT)
        }
        let n = txn()
        try ok(.SET_SELL_AMOUNT, o, stock: s, amount: "55.00", txn: n)
        XCTAssertEqual(try holding(o, s), Holding(free: 10, reserved: 0), "nothing reserved before the trigger price")
        XCTAssertEqual(try entries(n, o).map(\.kind), [.userCommand])
    }

    func testSetSellTriggerReservesFloorOfAmountOverPrice() throws {
        let (u, sym) = try owner(shares: 10, price: 1000)
        try ok(.SET_SELL_AMOUNT, u, stock: sym, amount: "55.00")
        let before = try snapshot(u)
        try fails(.SET_SELL_TRIGGER, u, stock: sym, amount: "55.01", .ZERO_SHARES) // §10.6
        try fails(.SET_SELL_TRIGGER, u, stock: sym, amount: "5.00", .INSUFFICIENT_SHARES) // needs 11
        try fails(.SET_SELL_TRIGGER, u, stock: sym, amount: "0.00", .INVALID_ARGUMENT)
        XCTAssertEqual(try snapshot(u), before)
        let d = try ok(.SET_SELL_TRIGGER, u, stock: sym, amount: "12.00")
        XCTAssertEqual(d["reservedShares"], .int(4))
        XCTAssertEqual(try holding(u, sym), Holding(free: 6, reserved: 4))
        // Re-setting restores the old reserve and takes the new one.
        try ok(.SET_SELL_TRIGGER, u, stock: sym, amount: "6.00")
        XCTAssertEqual(try holding(u, sym), Holding(free: 1, reserved: 9))
        try fails(.SET_SELL_TRIGGER, u, stock: sym, amount: "5.00", .INSUFFICIENT_SHARES) // 11 > 1 + 9
        XCTAssertEqual(try holding(u, sym), Holding(free: 1, reserved: 9))
    }

    func testRepeatedSetSellAmountReReservesAtTheArmedPrice() throws {
        let (u, sym) = try owner(shares: 10, price: 1000)
        try ok(.SET_SELL_AMOUNT, u, stock: sym, amount: "30.00")
        try ok(.SET_SELL_TRIGGER, u, stock: sym, amount: "10.00")
        XCTAssertEqual(try holding(u, sym), Holding(free: 7, reserved: 3))
        let d = try ok(.SET_SELL_AMOUNT, u, stock: sym, amount: "80.00") // §10.7
        XCTAssertEqual(d["reservedShares"], .int(8))
        XCTAssertEqual(d["triggerPrice"], .string("10.00"))
        XCTAssertEqual(try holding(u, sym), Holding(free: 2, reserved: 8))
        let before = try snapshot(u)
        try fails(.SET_SELL_AMOUNT, u, stock: sym, amount: "110.00", .INSUFFICIENT_SHARES) // §10.11
        try fails(.SET_SELL_AMOUNT, u, stock: sym, amount: "9.99", .ZERO_SHARES)
        XCTAssertEqual(try snapshot(u), before)
        try ok(.SET_SELL_AMOUNT, u, stock: sym, amount: "20.00")
        XCTAssertEqual(try holding(u, sym), Holding(free: 8, reserved: 2))
    }

    func testSetSellAmountCountsReservedSharesAsOwned() throws {
        let (u, sym) = try owner(shares: 2, price: 1000)
        try park(sym, 1000)
        try ok(.SELL, u, stock: sym, amount: "20.00") // both shares held by the pending SELL
        try park(sym, 1)
        XCTAssertEqual(try holding(u, sym), Holding(free: 0, reserved: 2))
        try ok(.SET_SELL_AMOUNT, u, stock: sym, amount: "10.00") // §10.8
        try fails(.SET_SELL_TRIGGER, u, stock: sym, amount: "10.00", .INSUFFICIENT_SHARES)
        try ok(.CANCEL_SELL, u)
        try ok(.SET_SELL_TRIGGER, u, stock: sym, amount: "10.00")
        XCTAssertEqual(try holding(u, sym), Holding(free: 1, reserved: 1))
    }

    func testCancelSetSellReturnsReservedShares() throws {
        let (u, sym) = try owner(shares: 10, price: 1000)
        try ok(.SET_SELL_AMOUNT, u, stock: sym, amount: "50.00")
        try ok(.SET_SELL_TRIGGER, u, stock: sym, amount: "20.00")
        XCTAssertEqual(try holding(u, sym), Holding(free: 8, reserved: 2))
        let n = txn()
        let d = try ok(.CANCEL_SET_SELL, u, stock: sym, txn: n)
        XCTAssertEqual(d["releasedShares"], .int(2))
        XCTAssertEqual(try holding(u, sym), Holding(free: 10, reserved: 0))
        XCTAssertEqual(try entries(n, u).map(\.kind), [.userCommand])
        try fails(.CANCEL_SET_SELL, u, stock: sym, .NO_SELL_AMOUNT)
    }

    func testSellTriggerFiresAtOrAboveItsPrice() throws {
        let (u, sym) = try owner(shares: 10, price: 1000)
        let cash = try account(u)?.cash ?? 0
        try ok(.SET_SELL_AMOUNT, u, stock: sym, amount: "60.00")
        let armTxn = txn()
        try ok(.SET_SELL_TRIGGER, u, stock: sym, amount: "12.00", txn: armTxn) // 5 shares
        let cached = try XCTUnwrap(engine.quotes.peek(symbol: sym, redis: redis))
        XCTAssertEqual(try engine.checkTriggers(symbol: sym, quote: cached, db: db), 0, "0.01 < 12.00")
        clock.advance(60_000)
        source.setPrice(sym, 1300)
        let watched = try XCTUnwrap(try engine.watchedSymbols(db: db).first { $0.symbol == sym })
        XCTAssertEqual(watched.armedTxn, armTxn)
        try engine.pollSymbol(watched, db: db, redis: redis)
        XCTAssertEqual(try holding(u, sym), Holding(free: 5, reserved: 0))
        XCTAssertEqual(try account(u)?.cash, cash + 5 * 1300)
        // By kind, not position: a trigger-worker of a running stack may fire from the cached
        // 13.00 between this poll storing it and logging its hit; the entries are the same.
        let fire = try entries(armTxn, u).filter { $0.kind != .userCommand }
        XCTAssertEqual(
            fire.map(\.kind).sorted { $0.rawValue < $1.rawValue }, [.accountTransaction, .quoteServer, .systemEvent])
        let event = try XCTUnwrap(fire.first { $0.kind == .systemEvent })
        XCTAssertEqual(event.command, .SET_SELL_TRIGGER)
        XCTAssertEqual(event.fundsCents, 1300)
        let credit = try XCTUnwrap(fire.first { $0.kind == .accountTransaction })
        XCTAssertEqual(credit.action, "add")
        XCTAssertEqual(credit.fundsCents, 6500)
        XCTAssertEqual(fire.first { $0.kind == .quoteServer }?.priceCents, 1300)
        XCTAssertEqual(try snapshot(u).triggers, [])
    }

    func testAnotherUsersFreshQuoteFiresTheTrigger() throws {
        let (u, sym) = try owner(shares: 4, price: 1000)
        try ok(.SET_SELL_AMOUNT, u, stock: sym, amount: "40.00")
        try ok(.SET_SELL_TRIGGER, u, stock: sym, amount: "10.50") // 3 shares
        let other = try newUser(cash: 100_000)
        clock.advance(60_000)
        source.setPrice(sym, 1100)
        let o = try run(.BUY, other, stock: sym, amount: "11.00")
        XCTAssertNotNil(o.data)
        XCTAssertEqual(o.triggersFired, 1)
        XCTAssertEqual(try holding(u, sym), Holding(free: 1, reserved: 0))
    }
}
