import Ledger
import ServiceCore
import XCTest

@testable import ClassicCore

final class BuyTests: ClassicTestCase {
    func testBuyHoldsSharesTimesPriceAndLogsQuoteAndRemove() throws {
        let u = try newUser(cash: 100_000)
        let sym = try newSymbol(price: 3000)
        let n = txn()
        let data = try ok(.BUY, u, stock: sym, amount: "100.00", txn: n)
        XCTAssertEqual(data["shares"], .int(3))
        XCTAssertEqual(data["cost"], .string("90.00"))
        XCTAssertEqual(data["price"], .string("30.00"))
        XCTAssertEqual(data["expiresAt"], .int(start + 60_000))
        XCTAssertEqual(try account(u), Account(cash: 91_000, reserved: 9_000))
        let e = try entries(n, u)
        XCTAssertEqual(e.map(\.kind), [.userCommand, .quoteServer, .accountTransaction])
        XCTAssertEqual(e[0].fundsCents, 10_000)
        XCTAssertEqual(e[0].stockSymbol, sym)
        XCTAssertEqual(e[2].action, "remove")
        XCTAssertEqual(e[2].fundsCents, 9_000)
        XCTAssertEqual(Set(e.map(\.transactionNum)), [n])
    }

    func testBuyChecksCashAgainstAmountBeforeAnyQuote() throws {
        // §10.3 / §10.2: cash 95 < amount 100 fails even though 3 shares would cost only 90,
        // and it fails before the quote, so it costs nothing.
        let u = try newUser(cash: 9_500)
        let sym = try newSymbol(price: 3000)
        let before = try snapshot(u)
        let e = try fails(.BUY, u, stock: sym, amount: "100.00", .INSUFFICIENT_FUNDS)
        XCTAssertEqual(e?.message, "INSUFFICIENT_FUNDS: cash 95.00 < amount 100.00")
        XCTAssertEqual(source.fetches(sym), 0)
        for bad in ["0.00", "-5.00", "abc", "1.001"] { try fails(.BUY, u, stock: sym, amount: bad, .INVALID_ARGUMENT) }
        try fails(.BUY, u, stock: "TOOLONG", amount: "1.00", .INVALID_ARGUMENT)
        XCTAssertEqual(source.fetches(sym), 0)
        XCTAssertEqual(try snapshot(u), before)
    }

    func testBuyOfZeroWholeSharesFailsAfterTheQuote() throws {
        let u = try newUser(cash: 100_000)
        let sym = try newSymbol(price: 15_000)
        let before = try snapshot(u)
        let n = txn()
        try fails(.BUY, u, stock: sym, amount: "100.00", txn: n, .ZERO_SHARES)
        XCTAssertEqual(
            try entries(n, u).map(\.kind), [.userCommand, .quoteServer, .errorEvent], "the paid hit is still logged")
        XCTAssertEqual(try snapshot(u), before)
    }

    func testCommitBuyTurnsTheHoldIntoShares() throws {
        let u = try newUser(cash: 100_000)
        let sym = try newSymbol(price: 3000)
        try ok(.BUY, u, stock: sym, amount: "100.00")
        clock.advance(59_999)
        let n = txn()
        let data = try ok(.COMMIT_BUY, u, txn: n)
        XCTAssertEqual(data["shares"], .int(3))
        XCTAssertEqual(data["cost"], .string("90.00"))
        XCTAssertEqual(try account(u), Account(cash: 91_000, reserved: 0))
        XCTAssertEqual(try holding(u, sym), Holding(free: 3, reserved: 0))
        XCTAssertEqual(try entries(n, u).map(\.kind), [.userCommand], "cash was already removed at BUY")
        XCTAssertEqual(source.fetches(sym), 1, "COMMIT uses the BUY's price, no new quote")
        try fails(.COMMIT_BUY, u, .NO_PENDING_BUY)
    }

    func testCancelBuyReleasesTheHold() throws {
        let u = try newUser(cash: 100_000)
        let sym = try newSymbol(price: 3000)
        try ok(.BUY, u, stock: sym, amount: "100.00")
        let n = txn()
        let data = try ok(.CANCEL_BUY, u, txn: n)
        XCTAssertEqual(data["released"], .string("90.00"))
        XCTAssertEqual(try account(u), Account(cash: 100_000, reserved: 0))
        let e = try entries(n, u)
        XCTAssertEqual(e.map(\.kind), [.userCommand, .accountTransaction])
        XCTAssertEqual(e[1].action, "add")
        XCTAssertEqual(e[1].fundsCents, 9_000)
        XCTAssertEqual(try holding(u, sym), Holding(free: 0, reserved: 0))
    }

    func testCommitAndCancelWithNothingPending() throws {
        let u = try newUser(cash: 1000)
        let before = try snapshot(u)
        let e = try fails(.COMMIT_BUY, u, .NO_PENDING_BUY)
        XCTAssertTrue(e?.sentence.contains("no BUY is pending") ?? false)
        try fails(.CANCEL_BUY, u, .NO_PENDING_BUY)
        try fails(.COMMIT_SELL, u, .NO_PENDING_SELL)
        try fails(.CANCEL_SELL, u, .NO_PENDING_SELL)
        XCTAssertEqual(try snapshot(u), before)
    }

    func testPendingBuysFormAStackNewestFirst() throws {
        let u = try newUser(cash: 100_000)
        let a = try newSymbol(price: 1000)
        let b = try newSymbol(price: 2000)
        try ok(.BUY, u, stock: a, amount: "50.00") // 5 × 10.00
        clock.advance(1000)
        try ok(.BUY, u, stock: b, amount: "50.00") // 2 × 20.00
        XCTAssertEqual(try account(u), Account(cash: 91_000, reserved: 9_000))
        XCTAssertEqual(try ok(.COMMIT_BUY, u)["stock"], .string(b))
        XCTAssertEqual(try ok(.CANCEL_BUY, u)["stock"], .string(a))
        XCTAssertEqual(try holding(u, b), Holding(free: 2, reserved: 0))
        XCTAssertEqual(try holding(u, a), Holding(free: 0, reserved: 0))
        XCTAssertEqual(try account(u), Account(cash: 96_000, reserved: 0))
    }

    func testExpiryAtExactlySixtySecondsReleasesAndLogs() throws {
        let u = try newUser(cash: 100_000)
        let sym = try newSymbol(price: 3000)
        let buyTxn = txn()
        try ok(.BUY, u, stock: sym, amount: "100.00", txn: buyTxn)
        clock.set(start + 60_000)
        let n = txn()
        let e = try fails(.COMMIT_BUY, u, txn: n, .NO_PENDING_BUY)
        XCTAssertTrue(e?.sentence.contains("expired") ?? false, e?.message ?? "")
        XCTAssertEqual(try account(u), Account(cash: 100_000, reserved: 0))
        XCTAssertEqual(try holding(u, sym), Holding(free: 0, reserved: 0))
        // §10.4: systemEvent CANCEL_BUY + accountTransaction add, both with the BUY's number.
        let expiry = try entries(buyTxn, u).filter { $0.kind != .userCommand && $0.kind != .quoteServer }
        XCTAssertEqual(expiry.map(\.kind), [.accountTransaction, .systemEvent, .accountTransaction])
        XCTAssertEqual(expiry[1].command, .CANCEL_BUY)
        XCTAssertEqual(expiry[1].stockSymbol, sym)
        XCTAssertEqual(expiry[1].fundsCents, 9_000)
        XCTAssertEqual(expiry[1].username, u)
        XCTAssertEqual(expiry[1].timestamp, start + 60_000)
        XCTAssertEqual(expiry[2].action, "add")
        XCTAssertEqual(expiry[2].fundsCents, 9_000)
    }

    func testOlderBuyStaysLiveUntilItsOwnExpiry() throws {
        let u = try newUser(cash: 100_000)
        let a = try newSymbol(price: 1000)
        let b = try newSymbol(price: 1000)
        try ok(.BUY, u, stock: a, amount: "10.00")
        clock.set(start + 30_000)
        try ok(.BUY, u, stock: b, amount: "10.00")
        XCTAssertEqual(try ok(.COMMIT_BUY, u)["stock"], .string(b))
        clock.set(start + 59_999)
        XCTAssertEqual(try ok(.COMMIT_BUY, u)["stock"], .string(a), "the older BUY is still live at +59.999 s")
        XCTAssertEqual(try holding(u, a).free, 1)
    }

    func testCancelAfterExpiryFails() throws {
        let u = try newUser(cash: 100_000)
        let sym = try newSymbol(price: 1000)
        try ok(.BUY, u, stock: sym, amount: "10.00")
        clock.advance(60_001)
        try fails(.CANCEL_BUY, u, .NO_PENDING_BUY)
        XCTAssertEqual(try account(u), Account(cash: 100_000, reserved: 0))
    }

    func testSweeperReleasesExpiredOrdersWithoutAnyCommand() throws {
        let u = try newUser(cash: 100_000)
        let sym = try newSymbol(price: 1000)
        let buyTxn = txn()
        try ok(.BUY, u, stock: sym, amount: "25.00", txn: buyTxn)
        clock.set(start + 59_999)
        try engine.sweepExpired(db: db)
        XCTAssertEqual(try account(u)?.reserved, 2_000, "not due yet (2 shares × 10.00)")
        clock.set(start + 60_000)
        XCTAssertGreaterThanOrEqual(try engine.sweepExpired(db: db), 1)
        XCTAssertEqual(try account(u), Account(cash: 100_000, reserved: 0))
        let sys = try entries(buyTxn, u).filter { $0.kind == .systemEvent }
        XCTAssertEqual(sys.count, 1)
        XCTAssertEqual(sys.first?.command, .CANCEL_BUY)
        try engine.sweepExpired(db: db)
        XCTAssertEqual(try entries(buyTxn, u).filter { $0.kind == .systemEvent }.count, 1, "released once only")
        // §10.10: the refusal says the BUY expired (the sweeper released it, not this command),
        // and, once that was said, that none is pending.
        let first = try fails(.COMMIT_BUY, u, .NO_PENDING_BUY)
        XCTAssertTrue(first?.sentence.contains("expired") ?? false, first?.sentence ?? "")
        let second = try fails(.CANCEL_BUY, u, .NO_PENDING_BUY)
        XCTAssertEqual(second?.sentence, "no BUY is pending")
        try ok(.BUY, u, stock: sym, amount: "10.00")
        try ok(.COMMIT_BUY, u)
        XCTAssertEqual(try fails(.COMMIT_BUY, u, .NO_PENDING_BUY)?.sentence, "no BUY is pending", "after a commit")
    }
}
