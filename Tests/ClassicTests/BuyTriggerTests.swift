import Ledger
import ServiceCore
import XCTest

@testable import ClassicCore

final class BuyTriggerTests: ClassicTestCase {
    func testSetBuyAmountHoldsCashAndRepeatsMoveTheDifference() throws {
        let u = try newUser(cash: 50_000)
        let sym = try newSymbol(price: 2000) // above the 12.00 trigger below: never due here
        let n1 = txn()
        let d = try ok(.SET_BUY_AMOUNT, u, stock: sym, amount: "100.00", txn: n1)
        XCTAssertEqual(d["triggerPrice"], .null)
        XCTAssertEqual(try account(u), Account(cash: 40_000, reserved: 10_000))
        let e1 = try entries(n1, u)
        XCTAssertEqual(e1.map(\.kind), [.userCommand, .accountTransaction])
        XCTAssertEqual(e1[1].action, "remove")
        XCTAssertEqual(e1[1].fundsCents, 10_000)

        // Raise: needs free cash ≥ the increase; logs remove of the increase (§10.12).
        let n2 = txn()
        try ok(.SET_BUY_AMOUNT, u, stock: sym, amount: "150.00", txn: n2)
        XCTAssertEqual(try account(u), Account(cash: 35_000, reserved: 15_000))
        XCTAssertEqual(try entries(n2, u).last?.fundsCents, 5_000)
        XCTAssertEqual(try entries(n2, u).last?.action, "remove")
        let before = try snapshot(u)
        let e = try fails(.SET_BUY_AMOUNT, u, stock: sym, amount: "500.01", .INSUFFICIENT_FUNDS)
        XCTAssertTrue(e?.sentence.contains("increase 350.01") ?? false, e?.message ?? "")
        XCTAssertEqual(try snapshot(u), before)

        // Arm, then lower: always succeeds, logs add, keeps the trigger price (§10.7, §10.12).
        try ok(.SET_BUY_TRIGGER, u, stock: sym, amount: "12.00")
        let n3 = txn()
        let low = try ok(.SET_BUY_AMOUNT, u, stock: sym, amount: "5.00", txn: n3)
        XCTAssertEqual(low["triggerPrice"], .string("12.00"))
        XCTAssertEqual(try account(u), Account(cash: 49_500, reserved: 500))
        XCTAssertEqual(try entries(n3, u).last?.action, "add")
        XCTAssertEqual(try entries(n3, u).last?.fundsCents, 14_500)
        // Same amount again: nothing moves, nothing but the userCommand is logged.
        let n4 = txn()
        try ok(.SET_BUY_AMOUNT, u, stock: sym, amount: "5.00", txn: n4)
        XCTAssertEqual(try entries(n4, u).map(\.kind), [.userCommand])
    }

    func testSetBuyAmountErrors() throws {
        let u = try newUser(cash: 1_000)
        let sym = try newSymbol(price: 1000)
        let before = try snapshot(u)
        try fails(.SET_BUY_AMOUNT, u, stock: sym, amount: "10.01", .INSUFFICIENT_FUNDS)
        for bad in ["0.00", "-3.00", "x", "3.333"] {
            try fails(.SET_BUY_AMOUNT, u, stock: sym, amount: bad, .INVALID_ARGUMENT)
        }
        try fails(.SET_BUY_AMOUNT, u, stock: "", amount: "1.00", .INVALID_ARGUMENT)
        XCTAssertEqual(try snapshot(u), before)
    }

    func testSetBuyTriggerNeedsAnAmountAndAReachablePrice() throws {
        let u = try newUser(cash: 100_000)
        let sym = try newSymbol(price: 6000) // above the 50.00 trigger below: never due here
        let before = try snapshot(u)
        let e = try fails(.SET_BUY_TRIGGER, u, stock: sym, amount: "10.00", .NO_BUY_AMOUNT)
        XCTAssertEqual(e?.code.httpStatus, 400)
        try fails(.CANCEL_SET_BUY, u, stock: sym, .NO_BUY_AMOUNT)
        XCTAssertEqual(try snapshot(u), before)
        try ok(.SET_BUY_AMOUNT, u, stock: sym, amount: "50.00")
        let armed = try snapshot(u)
        try fails(.SET_BUY_TRIGGER, u, stock: sym, amount: "50.01", .ZERO_SHARES) // §10.6
        for bad in ["0.00", "-1.00", "abc"] {
            try fails(.SET_BUY_TRIGGER, u, stock: sym, amount: bad, .INVALID_ARGUMENT)
        }
        XCTAssertEqual(try snapshot(u), armed)
        let n = txn()
        let d = try ok(.SET_BUY_TRIGGER, u, stock: sym, amount: "50.00", txn: n)
        XCTAssertEqual(d["triggerPrice"], .string("50.00"))
        XCTAssertEqual(try entries(n, u).map(\.kind), [.userCommand], "arming logs only the userCommand")
        XCTAssertEqual(try account(u), Account(cash: 95_000, reserved: 5_000))
    }

    func testCancelSetBuyReturnsTheReserve() throws {
        let u = try newUser(cash: 10_000)
        let sym = try newSymbol(price: 1000)
        try ok(.SET_BUY_AMOUNT, u, stock: sym, amount: "40.00")
        try ok(.SET_BUY_TRIGGER, u, stock: sym, amount: "9.00")
        let n = txn()
        let d = try ok(.CANCEL_SET_BUY, u, stock: sym, txn: n)
        XCTAssertEqual(d["released"], .string("40.00"))
        XCTAssertEqual(try account(u), Account(cash: 10_000, reserved: 0))
        let e = try entries(n, u)
        XCTAssertEqual(e.map(\.kind), [.userCommand, .accountTransaction])
        XCTAssertEqual(e[1].action, "add")
        XCTAssertEqual(e[1].fundsCents, 4_000)
        XCTAssertEqual(try snapshot(u).triggers, [])
        try fails(.CANCEL_SET_BUY, u, stock: sym, .NO_BUY_AMOUNT)
        // Cancelling a never-armed SET_BUY works too.
        try ok(.SET_BUY_AMOUNT, u, stock: sym, amount: "1.00")
        try ok(.CANCEL_SET_BUY, u, stock: sym)
        XCTAssertEqual(try account(u), Account(cash: 10_000, reserved: 0))
    }

    func testBuyTriggerFiresAtOrBelowItsPrice() throws {
        let u = try newUser(cash: 100_000)
        let sym = try newSymbol(price: 2000)
        // Seed the cache above the trigger so nothing (not even a stack worker) fires early.
        try ok(.QUOTE, u, stock: sym)
        try ok(.SET_BUY_AMOUNT, u, stock: sym, amount: "100.00")
        let armTxn = txn()
        try ok(.SET_BUY_TRIGGER, u, stock: sym, amount: "15.00", txn: armTxn)
        let cached = try XCTUnwrap(engine.quotes.peek(symbol: sym, redis: redis))
        XCTAssertEqual(try engine.checkTriggers(symbol: sym, quote: cached, db: db), 0, "20.00 > 15.00")
        XCTAssertEqual(try snapshot(u).triggers.count, 1)

        // A fresh quote at 14.00: 7 shares for 98.00, 2.00 back to cash.
        clock.advance(60_000)
        source.setPrice(sym, 1400)
        let quoteTxn = txn()
        let q = try run(.QUOTE, u, stock: sym, txn: quoteTxn)
        XCTAssertEqual(q.triggersFired, 1, "a fresh quote is checked against the symbol's triggers")
        XCTAssertEqual(try holding(u, sym), Holding(free: 7, reserved: 0))
        XCTAssertEqual(try account(u), Account(cash: 90_200, reserved: 0))
        XCTAssertEqual(try snapshot(u).triggers, [])
        // §10.5: systemEvent SET_BUY_TRIGGER with funds = firing price, accountTransaction add of
        // the unspent rest, both under the arming transactionNum; the hit is logged by the QUOTE.
        let fire = try entries(armTxn, u).filter { $0.kind != .userCommand }
        XCTAssertEqual(fire.map(\.kind), [.systemEvent, .accountTransaction])
        let event = try XCTUnwrap(fire.first { $0.kind == .systemEvent })
        XCTAssertEqual(event.command, .SET_BUY_TRIGGER)
        XCTAssertEqual(event.fundsCents, 1400)
        XCTAssertEqual(event.stockSymbol, sym)
        XCTAssertEqual(event.username, u)
        let rest = try XCTUnwrap(fire.first { $0.kind == .accountTransaction })
        XCTAssertEqual(rest.action, "add")
        XCTAssertEqual(rest.fundsCents, 200)
        XCTAssertEqual(try entries(quoteTxn, u).map(\.kind), [.userCommand, .quoteServer])
    }

    func testBuyTriggerWhoseReserveBuysNoShareStaysArmed() throws {
        let u = try newUser(cash: 100_000)
        let sym = try newSymbol(price: 6000)
        try ok(.QUOTE, u, stock: sym) // the shared cache says 60.00: not due for anyone
        try ok(.SET_BUY_AMOUNT, u, stock: sym, amount: "100.00")
        try ok(.SET_BUY_TRIGGER, u, stock: sym, amount: "50.00")
        try ok(.SET_BUY_AMOUNT, u, stock: sym, amount: "5.00") // below a 10.00 price now
        let at10 = Quote(
            symbol: sym, user: u, priceCents: 1000, quoteServerTime: 0, cryptokey: "k", obtainedAt: clock.nowMillis())
        XCTAssertEqual(try engine.checkTriggers(symbol: sym, quote: at10, db: db), 0)
        XCTAssertEqual(try account(u), Account(cash: 99_500, reserved: 500))
        XCTAssertEqual(try snapshot(u).triggers.count, 1, "it stays armed (§10.5)")
        // Raising the reserve again lets it fire at the same price.
        try ok(.SET_BUY_AMOUNT, u, stock: sym, amount: "25.00")
        XCTAssertEqual(try engine.checkTriggers(symbol: sym, quote: at10, db: db), 1)
        XCTAssertEqual(try snapshot(u).triggers, [])
        XCTAssertEqual(try holding(u, sym).free, 2)
        XCTAssertEqual(try account(u), Account(cash: 98_000, reserved: 0))
    }

    func testAQuoteOlderThanSixtySecondsFiresNothing() throws {
        let u = try newUser(cash: 100_000)
        let sym = try newSymbol(price: 2000)
        try ok(.QUOTE, u, stock: sym) // 20.00 in the shared cache: not due
        try ok(.SET_BUY_AMOUNT, u, stock: sym, amount: "100.00")
        try ok(.SET_BUY_TRIGGER, u, stock: sym, amount: "10.00")
        let old = Quote(
            symbol: sym, user: u, priceCents: 900, quoteServerTime: 0, cryptokey: "k", obtainedAt: start - 60_000)
        XCTAssertEqual(try engine.checkTriggers(symbol: sym, quote: old, db: db), 0)
        let young = Quote(
            symbol: sym, user: u, priceCents: 900, quoteServerTime: 0, cryptokey: "k", obtainedAt: start - 59_999)
        XCTAssertEqual(
            try engine.checkTriggers(symbol: sym, quote: young, db: db), 1, "< 60 s old is still good (§10.13)")
        XCTAssertEqual(try holding(u, sym).free, 11)
    }

    func testWorkerPollLogsItsHitUnderTheArmingTransaction() throws {
        let u = try newUser(cash: 100_000)
        let sym = try newSymbol(price: 2000)
        try park(sym, 2000) // not due until the poll's own fresh quote
        try ok(.SET_BUY_AMOUNT, u, stock: sym, amount: "20.00")
        let armTxn = txn()
        try ok(.SET_BUY_TRIGGER, u, stock: sym, amount: "10.00", txn: armTxn)
        let watched = try engine.watchedSymbols(db: db).filter { $0.symbol == sym }
        XCTAssertEqual(watched, [ClassicEngine.WatchedSymbol(symbol: sym, username: u, armedTxn: armTxn)])
        clock.advance(60_000)
        source.setPrice(sym, 800)
        try engine.pollSymbol(try XCTUnwrap(watched.first), db: db, redis: redis)
        XCTAssertEqual(source.fetches(sym), 1)
        XCTAssertEqual(try holding(u, sym).free, 2)
        XCTAssertEqual(try account(u), Account(cash: 98_400, reserved: 0))
        let fire = try entries(armTxn, u).filter { $0.kind != .userCommand }
        XCTAssertEqual(
            fire.map(\.kind).sorted { $0.rawValue < $1.rawValue }, [.accountTransaction, .quoteServer, .systemEvent])
        XCTAssertEqual(fire.first { $0.kind == .quoteServer }?.priceCents, 800)
        XCTAssertEqual(fire.first { $0.kind == .systemEvent }?.fundsCents, 800)
        XCTAssertEqual(fire.first { $0.kind == .accountTransaction }?.fundsCents, 400)
        XCTAssertEqual(try engine.watchedSymbols(db: db).filter { $0.symbol == sym }, [])
    }
}
