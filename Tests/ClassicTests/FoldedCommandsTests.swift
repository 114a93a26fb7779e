import Foundation
import Ledger
import ServiceCore
import XCTest

@testable import ClassicCore

/// BUY, SELL and their COMMIT/CANCEL as one PL/pgSQL call each (`ClassicSchema.functions`) must
/// decide, answer and log exactly as their statement-by-statement Swift path.
final class FoldedCommandsTests: ClassicTestCase {
    func testFoldedAndStatementPathsGiveTheSameAnswersLogAndBalances() throws {
        try compare(pendingOrders)
    }

    func testFoldedAndStatementTriggerCommandsGiveTheSameAnswersLogAndBalances() throws {
        try compare(triggerCommands)
    }

    private func compare(_ scenario: Scenario) throws {
        let folded = try transcript(folded: true, scenario)
        let plain = try transcript(folded: false, scenario)
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
        // The stock exists but the user holds none of it (checked again under the lock).
        XCTAssertEqual(try status(sell, [u, uid, now, sym, Int64(1_000), Int64(1000)]), "NOT_OWNED")
        for fn in ["classic_commit", "classic_cancel"] {
            XCTAssertEqual(
                try status("SELECT * FROM \(fn)($1, NULL::BIGINT, $2, 'S')", [u, now]), "NO_PENDING")
            // A due pending order: the function hands the command back to the Swift path untouched.
            XCTAssertEqual(try status("SELECT * FROM \(fn)($1, NULL::BIGINT, $2, 'B')", [u, now + 60_000]), "EXPIRE")
        }
        XCTAssertEqual(try snapshot(u), before)
    }

    private func pendingOrders(
        _ step: (ClassicCommandName, String, String?, String?) throws -> Void, _ u: String, _ v: String,
        _ sym: String, _ dear: String
    ) throws {
        try step(.BUY, u, sym, "100.00")
        try step(.BUY, u, dear, "100.00")
        try step(.BUY, v, sym, "50.00")
        try step(.COMMIT_BUY, u, nil, nil)
        try step(.COMMIT_BUY, u, nil, nil)
        try step(.BUY, u, sym, "60.00")
        try step(.BUY, u, sym, "31.00")
        try step(.DISPLAY_SUMMARY, u, nil, nil)
        try step(.ADD, u, nil, "5.00")
        try step(.ADD, v, nil, "0.00")
        try step(.DISPLAY_SUMMARY, "nosuchuser", nil, nil)
        try step(.CANCEL_BUY, u, nil, nil)
        try step(.COMMIT_BUY, u, nil, nil)
        try step(.CANCEL_BUY, u, nil, nil)
        try step(.SELL, u, sym, "30.00")
        try step(.SELL, u, sym, "1000.00")
        try step(.SELL, u, sym, "10.00")
        try step(.SELL, u, dear, "100.00")
        try step(.SELL, v, sym, "30.00")
        try step(.COMMIT_SELL, u, nil, nil)
        try step(.COMMIT_SELL, u, nil, nil)
        try step(.SELL, u, sym, "60.00")
        try step(.CANCEL_SELL, u, nil, nil)
        try step(.CANCEL_SELL, u, nil, nil)
        try step(.COMMIT_BUY, "nosuchuser", nil, nil)
        try step(.CANCEL_SELL, "nosuchuser", nil, nil)
        // Lazy expiry: due orders hand the command to the Swift path, which releases and logs them.
        try step(.BUY, u, sym, "30.00")
        try step(.SELL, u, sym, "30.00")
        try step(.DISPLAY_SUMMARY, u, nil, nil)
        self.clock.advance(60_000)
        try step(.DISPLAY_SUMMARY, u, nil, nil)
        try step(.COMMIT_BUY, u, nil, nil)
        try step(.SELL, u, sym, "30.00")
        self.clock.advance(60_000)
        try step(.BUY, u, sym, "30.00")
        try step(.CANCEL_SELL, u, nil, nil)
        try step(.COMMIT_BUY, u, nil, nil)
    }

    private func triggerCommands(
        _ step: (ClassicCommandName, String, String?, String?) throws -> Void, _ u: String, _ v: String,
        _ sym: String, _ dear: String
    ) throws {
        try step(.BUY, u, sym, "300.00")
        try step(.COMMIT_BUY, u, nil, nil) // 10 shares, 700.00 free
        try step(.SET_BUY_AMOUNT, u, sym, "50.00")
        try step(.SET_BUY_AMOUNT, u, sym, "80.00")
        try step(.SET_BUY_AMOUNT, u, sym, "20.00")
        try step(.SET_BUY_AMOUNT, v, sym, "50.00")
        try step(.SET_BUY_AMOUNT, u, dear, "2000.00")
        try step(.SET_BUY_AMOUNT, u, sym, "5000.00")
        try step(.SET_BUY_TRIGGER, u, sym, "25.00")
        // Buy triggers at 10.00 and sell triggers at 40.00 never fire at the quoted 30.00.
        try step(.SET_BUY_TRIGGER, u, sym, "10.00")
        try step(.SET_BUY_AMOUNT, u, sym, "40.00")
        try step(.SET_BUY_TRIGGER, u, dear, "10.00")
        try step(.SET_BUY_TRIGGER, u, "ZZZZ", "10.00")
        try step(.SET_BUY_TRIGGER, u, sym, "0.00")
        try step(.SET_BUY_TRIGGER, "nosuchuser", sym, "10.00")
        try step(.CANCEL_SET_BUY, u, sym, nil)
        try step(.CANCEL_SET_BUY, u, sym, nil)
        try step(.CANCEL_SET_BUY, u, nil, nil)
        try step(.SET_SELL_AMOUNT, v, sym, "10.00")
        try step(.SET_SELL_AMOUNT, u, dear, "10.00")
        try step(.SET_SELL_AMOUNT, u, sym, "100.00")
        try step(.SET_SELL_TRIGGER, u, sym, "200.00")
        try step(.SET_SELL_TRIGGER, u, sym, "5.00")
        try step(.SET_SELL_TRIGGER, u, sym, "40.00")
        try step(.SET_SELL_AMOUNT, u, sym, "200.00")
        try step(.SET_SELL_AMOUNT, u, sym, "1000.00")
        try step(.SET_SELL_AMOUNT, u, sym, "10.00")
        try step(.SET_SELL_TRIGGER, u, dear, "40.00")
        try step(.CANCEL_SET_SELL, u, sym, nil)
        try step(.CANCEL_SET_SELL, u, sym, nil)
        try step(.SET_SELL_AMOUNT, u, sym, "80.00")
        try step(.SET_SELL_TRIGGER, u, sym, "40.00")
        try step(.SET_BUY_AMOUNT, u, sym, "30.00")
        try step(.SET_BUY_AMOUNT, u, dear, "15.00")
        try step(.DISPLAY_SUMMARY, u, nil, nil)
        // Lazy expiry first: a due BUY hands the command to the statement path.
        try step(.BUY, u, sym, "30.00")
        self.clock.advance(60_000)
        try step(.SET_BUY_TRIGGER, u, sym, "10.00")
        try step(.SELL, u, sym, "60.00")
        self.clock.advance(60_000)
        try step(.SET_SELL_AMOUNT, u, sym, "120.00")
        try step(.BUY, u, sym, "30.00")
        self.clock.advance(60_000)
        try step(.CANCEL_SET_SELL, u, sym, nil)
        try step(.BUY, u, sym, "30.00")
        self.clock.advance(60_000)
        try step(.CANCEL_SET_BUY, u, sym, nil)
    }

    // MARK: the scenario

    /// Runs commands through `step(command, user, stock, amount)` for users u (1,000.00) and v
    /// (10.00), symbols sym (30.00) and dear (150.00).
    private typealias Scenario = (
        _ step: (ClassicCommandName, String, String?, String?) throws -> Void, _ u: String, _ v: String,
        _ sym: String, _ dear: String
    ) throws -> Void

    /// Every answer, error, log entry and final balance of one scenario, with its user names,
    /// symbols and transaction numbers replaced by placeholders.
    private func transcript(folded: Bool, _ scenario: Scenario) throws -> [String] {
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
                of: #""(transactionNum|armedBy)":\d+"#, with: "\"$1\":N", options: .regularExpression)
        }
        var lines: [String] = []
        func step(_ cmd: ClassicCommandName, _ user: String, _ stock: String?, _ amount: String?) throws {
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
        try scenario(step, u, v, sym, dear)
        try step(.DISPLAY_SUMMARY, u, nil, nil)
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
