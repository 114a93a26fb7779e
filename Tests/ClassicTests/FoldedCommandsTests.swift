import Foundation
import Ledger
import ServiceCore
import XCTest

@testable import ClassicCore

/// BUY, SELL and their COMMIT/CANCEL as one PL/pgSQL call each (`ClassicSchema.functions`) must
/// decide, answer and log exactly as their statement-by-statement Swift path.
final class FoldedCommandsTests: ClassicTestCase {
    func testFoldedAndStatementPathsGiveTheSameAnswersLogAndBalances() throws {
        let folded = try transcript(folded: true)
        let plain = try transcript(folded: false)
        XCTAssertGreaterThan(folded.count, 40)
        for (i, (f, p)) in zip(folded, plain).enumerated() where f != p {
            XCTFail("line \(i): folded «\(f)» vs statements «\(p)»")
        }
        XCTAssertEqual(folded.count, plain.count)
    }

    /// A holding or balance at the ledger's bound: the folded COMMIT refuses with the Swift
    /// path's error, changes nothing and keeps the order pending.
    func testFoldedCommitAtTheLedgerBoundRefusesAndKeepsTheOrder() throws {
        let u = try newUser(cash: 100_000)
        let sym = try newSymbol(price: 3000)
        try ok(.BUY, u, stock: sym, amount: "30.00")
        try ok(.COMMIT_BUY, u)
        try ok(.BUY, u, stock: sym, amount: "30.00")
        try db.transaction { tx in
            guard let uid = try LedgerOps.userId(tx, name: u),
                let sid = try LedgerOps.stockId(tx, name: sym, create: false)
            else { return XCTFail("no user or stock") }
            XCTAssertTrue(try LedgerTx(tx).grantShares(uid, stockId: sid, shares: LedgerBounds.maxHoldingShares - 1))
        }
        let before = try snapshot(u)
        let e = try fails(.COMMIT_BUY, u, .INVALID_ARGUMENT)
        XCTAssertEqual(e?.message, ClassicInput.holdingBound.message)
        XCTAssertEqual(try snapshot(u), before, "the pending BUY and its hold stay")

        let v = try newUser(cash: 100_000)
        try ok(.BUY, v, stock: sym, amount: "60.00")
        try ok(.COMMIT_BUY, v)
        try ok(.SELL, v, stock: sym, amount: "30.00")
        try db.transaction { tx in
            guard let uid = try LedgerOps.userId(tx, name: v) else { return XCTFail("no user") }
            let room = LedgerBounds.maxBalanceCents - (try account(v).map { $0.cash + $0.reserved } ?? 0)
            XCTAssertNotNil(try LedgerTx(tx).deposit(uid, cents: room, kind: .deposit))
        }
        let full = try snapshot(v)
        let s = try fails(.COMMIT_SELL, v, .INVALID_ARGUMENT)
        XCTAssertEqual(s?.message, ClassicInput.balanceBound.message)
        XCTAssertEqual(try snapshot(v), full, "the pending SELL and its shares stay")
    }

    /// Branches a single-threaded engine cannot reach (the precheck catches them first), called
    /// directly: each refuses and changes nothing.
    func testFunctionsRefuseWithoutChangingAnything() throws {
        let u = try newUser(cash: 5_000)
        let sym = try newSymbol(price: 1000)
        guard let uid = try LedgerOps.userId(db, name: u) else { return XCTFail("no user") }
        try ok(.BUY, u, stock: sym, amount: "20.00") // creates the stock; 30.00 stays free
        let now = clock.nowMillis()
        let before = try snapshot(u)
        func status(_ sql: String, _ args: [any PGBindable]) throws -> String? {
            try db.query(sql, args).string(0, 0)
        }
        let buy = "SELECT * FROM classic_buy($1, $2::BIGINT, $3, $4, $5, $6, 60000, 42)"
        XCTAssertEqual(try status(buy, [u, nil as Int64?, now, sym, Int64(3_001), Int64(1000)]), "INSUFFICIENT_FUNDS")
        XCTAssertEqual(try status(buy, [u, nil as Int64?, now, sym, Int64(500), Int64(1000)]), "ZERO_SHARES")
        XCTAssertEqual(try status(buy, [u + "x", nil as Int64?, now, sym, Int64(1_000), Int64(1000)]), "UNKNOWN_USER")
        XCTAssertEqual(try status(buy, [u, uid + 1, now, sym, Int64(1_000), Int64(1000)]), "UNKNOWN_USER")
        let sell = "SELECT * FROM classic_sell($1, $2::BIGINT, $3, $4, $5, $6, 60000, 42)"
        XCTAssertEqual(try status(sell, [u, uid, now, "NOSUCHSTOCK", Int64(1_000), Int64(1000)]), "NOT_OWNED")
        XCTAssertEqual(try status(sell, [u, uid, now, sym, Int64(1_000), Int64(1000)]), "INSUFFICIENT_SHARES")
        for fn in ["classic_commit", "classic_cancel"] {
            XCTAssertEqual(
                try status("SELECT * FROM \(fn)($1, NULL::BIGINT, $2, 'S')", [u, now]), "NO_PENDING")
            // A due pending order: the function hands the command back to the Swift path untouched.
            XCTAssertEqual(try status("SELECT * FROM \(fn)($1, NULL::BIGINT, $2, 'B')", [u, now + 60_000]), "EXPIRE")
        }
        XCTAssertEqual(try snapshot(u), before)
    }

    // MARK: the scenario

    /// Every answer, error, log entry and final balance of one scenario, with its user names,
    /// symbols and transaction numbers replaced by placeholders.
    private func transcript(folded: Bool) throws -> [String] {
        clock.set(start)
        engine = ClassicEngine(
            clock: clock, quotes: engine.quotes, server: "test", committer: TestEnv.committer, folded: folded)
        let u = try newUser(cash: 100_000)
        let v = try newUser(cash: 1_000)
        let sym = try newSymbol(price: 3000)
        let dear = try newSymbol(price: 15_000)
        let names = [(u, "U"), (v, "V"), (sym, "S1"), (dear, "S2")]
        func norm(_ s: String) -> String {
            var out = s
            for (name, ph) in names { out = out.replacingOccurrences(of: name, with: ph) }
            return out.replacingOccurrences(
                of: #""transactionNum":\d+"#, with: "\"transactionNum\":N", options: .regularExpression)
        }
        var lines: [String] = []
        func step(_ cmd: ClassicCommandName, _ user: String, _ stock: String? = nil, _ amount: String? = nil) throws {
            let o = try run(cmd, user, stock: stock, amount: amount)
            // DISPLAY_SUMMARY's recent entries carry the fake quote server's wall-clock times: the
            // log itself is compared below, field by field.
            let shown = o.data.map { d in
                cmd == .DISPLAY_SUMMARY
                    ? JSON.object(
                        ["cash", "holdings", "pendingBuys", "pendingSells", "triggers"].map { ($0, d[$0] ?? .null) })
                    : d
            }
            let what = shown.map { $0.serialized() } ?? "\(o.error?.code.rawValue ?? "?") \(o.error?.message ?? "?")"
            lines.append(norm("\(cmd.rawValue) \(user) t+\(o.timestamp - start): \(what)"))
        }
        try step(.BUY, u, sym, "100.00")
        try step(.BUY, u, dear, "100.00")
        try step(.BUY, v, sym, "50.00")
        try step(.COMMIT_BUY, u)
        try step(.COMMIT_BUY, u)
        try step(.BUY, u, sym, "60.00")
        try step(.BUY, u, sym, "31.00")
        try step(.CANCEL_BUY, u)
        try step(.COMMIT_BUY, u)
        try step(.CANCEL_BUY, u)
        try step(.SELL, u, sym, "30.00")
        try step(.SELL, u, sym, "1000.00")
        try step(.SELL, u, sym, "10.00")
        try step(.SELL, u, dear, "100.00")
        try step(.SELL, v, sym, "30.00")
        try step(.COMMIT_SELL, u)
        try step(.COMMIT_SELL, u)
        try step(.SELL, u, sym, "60.00")
        try step(.CANCEL_SELL, u)
        try step(.CANCEL_SELL, u)
        try step(.COMMIT_BUY, "nosuchuser")
        try step(.CANCEL_SELL, "nosuchuser")
        // Lazy expiry: due orders hand the command to the Swift path, which releases and logs them.
        try step(.BUY, u, sym, "30.00")
        try step(.SELL, u, sym, "30.00")
        clock.advance(60_000)
        try step(.COMMIT_BUY, u)
        try step(.SELL, u, sym, "30.00")
        clock.advance(60_000)
        try step(.BUY, u, sym, "30.00")
        try step(.CANCEL_SELL, u)
        try step(.COMMIT_BUY, u)
        try step(.DISPLAY_SUMMARY, u)
        for user in [u, v] {
            for e in try AuditReader.recent(db, username: user, limit: 200).reversed() {
                let fields: [String?] = [
                    e.kind.rawValue, e.command?.rawValue, "t+\(e.timestamp - start)", e.username, e.stockSymbol,
                    e.fundsCents.map(String.init), e.action, e.priceCents.map(String.init), e.message,
                ]
                lines.append(norm(fields.map { $0 ?? "-" }.joined(separator: " ")))
            }
        }
        let snap = try snapshot(u)
        lines.append(norm("account \(String(describing: snap.account)) holdings \(snap.holdings)"))
        lines.append(norm("triggers \(snap.triggers) pending \(snap.pending.count)"))
        return lines
    }
}
