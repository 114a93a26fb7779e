import Foundation
import Ledger
import ServiceCore
import XCTest

/// A command that makes PostgreSQL fail its whole batch (here: a deposit for a user id that does
/// not exist, a foreign-key violation) must not sink the orders batched with it: the engine
/// rolls back, rebuilds its books from the ledger and retries each command alone. Talks to the
/// engine directly (x-user-id, signed as the gateway would), since the gateway would never forward an unknown user.
final class EngineBatchFailureTests: XCTestCase {
    func testAFailingCommandDoesNotSinkItsBatch() throws {
        let api = try PTClient()
        let engine = try PTEnv.engine()
        let db = try PTEnv.pg()
        let client = PTEnv.signedClient
        let seller = try api.newUser("bf")
        let s = try api.createStock(seller.token)
        api.grant(seller.token, s, 1000)
        ptAssertSuccess(api.order(seller.token, s, buy: false, limit: 3, 1000), "ask 1000 @ 3")
        let buyerNames = try (0..<12).map { _ in try api.newUser("bfb").name }
        let ids = try buyerNames.map { try XCTUnwrap(try LedgerOps.userId(db, name: $0)) }
        let missingUser = (try db.query("SELECT COALESCE(MAX(id), 0) + 1000000 FROM users").int64(0, 0)) ?? 1_000_000

        @Sendable func call(_ user: Int64, _ path: String, _ body: String) -> Int {
            (try? client.request(
                engine, method: "POST", path: path, headers: [("x-user-id", String(user))],
                body: Array(body.utf8), timeoutMillis: 30_000
            ).status) ?? 0
        }
        for id in ids { XCTAssertEqual(call(id, "/transaction/addMoneyToWallet", #"{"amount":100}"#), 200) }

        // Rounds of 12 buys and 3 poisoned deposits sent at once, so they share batches.
        let buys = PTBox(0)
        let poisoned = PTBox<[Int]>([])
        let rounds = 3
        for _ in 0..<rounds {
            DispatchQueue.concurrentPerform(iterations: ids.count + 3) { i in
                if i < ids.count {
                    let status = call(
                        ids[i], "/engine/placeStockOrder",
                        #"{"stock_id":"\#(s)","is_buy":true,"order_type":"MARKET","quantity":10}"#)
                    if status == 200 { buys.update { $0 += 1 } }
                } else {
                    let status = call(missingUser, "/transaction/addMoneyToWallet", #"{"amount":5}"#)
                    poisoned.update { $0.append(status) }
                }
            }
        }
        XCTAssertEqual(buys.value, ids.count * rounds, "every valid buy succeeded")
        // Alone, each is refused as what it is: a user the ledger does not have.
        XCTAssertTrue(poisoned.value.allSatisfy { $0 == 404 }, "the poisoned deposits failed alone: \(poisoned.value)")
        XCTAssertEqual(try db.query("SELECT count(*) FROM accounts WHERE user_id = $1", [missingUser]).int(0, 0), 0)
        let sellerTxs = api.stockTxs(seller.token)
        XCTAssertEqual(sellerTxs.count, 1 + ids.count * rounds, "one child per buy")
        XCTAssertEqual(api.balance(seller.token), String(ids.count * rounds * 30))
        for id in ids {
            XCTAssertEqual(try db.query("SELECT cash_cents FROM accounts WHERE user_id = $1", [id]).int64(0, 0), 1000)
        }
        try PTStack.assertBooksMatchLedger(db)
        try PTLedger.conservation()
    }
}
