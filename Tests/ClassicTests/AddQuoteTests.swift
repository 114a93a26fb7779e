import Ledger
import ServiceCore
import XCTest

@testable import ClassicCore

final class AddQuoteTests: ClassicTestCase {
    func testAddCreatesAccountAndLogsAccountTransaction() throws {
        let u = newUserName()
        let n = txn()
        let data = try ok(.ADD, u, amount: "100.25", txn: n)
        XCTAssertEqual(data["cash"], .string("100.25"))
        XCTAssertEqual(try account(u), Account(cash: 10025, reserved: 0))
        let e = try entries(n, u)
        XCTAssertEqual(e.map(\.kind), [.userCommand, .accountTransaction])
        XCTAssertEqual(e[0].command, .ADD)
        XCTAssertEqual(e[0].fundsCents, 10025)
        XCTAssertEqual(e[0].timestamp, start)
        XCTAssertEqual(e[0].server, "test")
        XCTAssertEqual(e[1].action, "add")
        XCTAssertEqual(e[1].fundsCents, 10025)
        XCTAssertEqual(e[1].username, u)
        try ok(.ADD, u, amount: "0.75")
        XCTAssertEqual(try account(u)?.cash, 10100)
    }

    func testAddRejectsNegativeZeroAndMalformedAmounts() throws {
        let fresh = newUserName()
        try fails(.ADD, fresh, amount: "-73280.58", .INVALID_ARGUMENT)
        XCTAssertNil(try account(fresh), "a rejected ADD creates no account")
        XCTAssertNil(try LedgerOps.userId(db, name: fresh))
        let u = try newUser(cash: 5000)
        let before = try snapshot(u)
        for bad in ["-1.00", "0.00", "0", "abc", "1.234", "", " ", "1e3", "12.", "--1"] {
            try fails(.ADD, u, amount: bad, .INVALID_ARGUMENT)
        }
        try fails(.ADD, u, amount: nil, .INVALID_ARGUMENT)
        XCTAssertEqual(try snapshot(u), before)
        // The malformed amount is left out of the entries; a negative one is logged as given.
        let negative = try run(.ADD, u, amount: "-5.10", txn: txn())
        XCTAssertEqual(try entries(negative.transactionNum, u).first?.fundsCents, -510)
        let malformed = try run(.ADD, u, amount: "x1", txn: txn())
        XCTAssertEqual(try entries(malformed.transactionNum, u).map(\.fundsCents), [nil, nil])
        // Control characters, NUL included (PostgreSQL's text cannot hold it), are refused and
        // logged like any other malformed text, quoted as \uXXXX.
        for bad in ["1\u{0}", "\u{0}", "1\u{1}"] {
            let r = try run(.ADD, u, amount: bad, txn: txn())
            XCTAssertEqual(r.error?.code, .INVALID_ARGUMENT, bad.debugDescription)
            let logged = try entries(r.transactionNum, u)
            XCTAssertEqual(logged.map(\.kind), [.userCommand, .errorEvent], bad.debugDescription)
            XCTAssertFalse(logged.last?.message?.unicodeScalars.contains { $0.value < 0x20 } ?? true)
        }
        let sym = try newSymbol(price: 100)
        let nulSymbol = try run(.BUY, u, stock: sym + "\u{0}", amount: "1.00", txn: txn())
        XCTAssertEqual(nulSymbol.error?.code, .INVALID_ARGUMENT)
        XCTAssertEqual(try entries(nulSymbol.transactionNum, u).map(\.kind), [.userCommand, .errorEvent])
        XCTAssertEqual(try snapshot(u), before)
    }

    func testEveryCommandButAddAndDumplogRejectsUnknownUser() throws {
        let ghost = newUserName()
        let sym = try newSymbol(price: 1000)
        for cmd in ClassicCommandName.allCases where cmd != .ADD && cmd != .DUMPLOG {
            let e = try fails(cmd, ghost, stock: sym, amount: "10.00", .UNKNOWN_USER)
            XCTAssertEqual(e?.code.httpStatus, 404)
        }
        XCTAssertEqual(source.fetches(sym), 0, "an unknown user costs no quote")
        XCTAssertNil(try account(ghost))
    }

    func testQuoteHitIsLoggedAndCachedForUnder60Seconds() throws {
        let u = try newUser(cash: 100)
        let sym = try newSymbol(price: 2661)
        let before = try QuoteCache.counters(redis)
        let n1 = txn()
        let first = try ok(.QUOTE, u, stock: sym, txn: n1)
        XCTAssertEqual(first["price"], .string("26.61"))
        XCTAssertEqual(first["cached"], .bool(false))
        let e1 = try entries(n1, u)
        XCTAssertEqual(e1.map(\.kind), [.userCommand, .quoteServer])
        XCTAssertEqual(e1[1].priceCents, 2661)
        XCTAssertEqual(e1[1].stockSymbol, sym)
        XCTAssertEqual(e1[1].username, u)
        XCTAssertEqual(e1[1].cryptokey, "fakeKey\(sym)1/+==")
        XCTAssertNotNil(e1[1].quoteServerTime)
        XCTAssertEqual(e1[0].stockSymbol, sym)

        // Another user inside the 60 s window is served from the cache: no hit, no entry.
        let other = try newUser(cash: 100)
        clock.advance(59_999)
        let n2 = txn()
        let second = try ok(.QUOTE, other, stock: sym, txn: n2)
        XCTAssertEqual(second["cached"], .bool(true))
        XCTAssertEqual(try entries(n2, other).map(\.kind), [.userCommand])
        XCTAssertEqual(source.fetches(sym), 1)

        // At exactly +60 s the quote is too old (§10.1).
        clock.advance(1)
        source.setPrice(sym, 2700)
        let n3 = txn()
        XCTAssertEqual(try ok(.QUOTE, other, stock: sym, txn: n3)["price"], .string("27.00"))
        XCTAssertEqual(try entries(n3, other).map(\.kind), [.userCommand, .quoteServer])
        XCTAssertEqual(source.fetches(sym), 2)

        let after = try QuoteCache.counters(redis)
        XCTAssertGreaterThanOrEqual(after.hits - before.hits, 2)
        XCTAssertGreaterThanOrEqual(after.cacheHits - before.cacheHits, 1)
    }

    func testQuoteErrors() throws {
        let u = try newUser(cash: 100)
        let sym = try newSymbol(price: 100)
        source.setFailing(true)
        let e = try fails(.QUOTE, u, stock: sym, .QUOTE_UNAVAILABLE)
        XCTAssertEqual(e?.code.httpStatus, 503)
        source.setFailing(false)
        try fails(.QUOTE, u, stock: "ABCD", .INVALID_ARGUMENT)
        try fails(.QUOTE, u, stock: "A1", .INVALID_ARGUMENT)
        try fails(.QUOTE, u, stock: nil, .INVALID_ARGUMENT)
        XCTAssertEqual(source.fetches(sym), 0)
    }

    func testTransactionNumbersComeFromTheClientOrOneSequence() throws {
        let u = try newUser(cash: 100)
        let a = try run(.DISPLAY_SUMMARY, u)
        let b = try run(.DISPLAY_SUMMARY, u)
        XCTAssertGreaterThanOrEqual(a.transactionNum, 1)
        XCTAssertGreaterThan(b.transactionNum, a.transactionNum)
        let c = try run(.DISPLAY_SUMMARY, u, txn: 17)
        XCTAssertEqual(c.transactionNum, 17)
        XCTAssertEqual(try log(u).last?.transactionNum, 17)
    }
}
