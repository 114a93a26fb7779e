import Foundation
import Ledger
import ServiceCore
import XCTest

/// Every credit is checked against LedgerBounds before anything trades: the seller-proceeds
/// overflow sequence (fills of the largest notional until a balance would pass int64) gets 400s,
/// the engine never fails or rebuilds a batch because of it, and everyone else keeps trading.
final class BoundsTests: XCTestCase {
    /// Lines of the engine's log that report a failed batch (each one means a rebuild).
    static func failedBatches() throws -> Int {
        let path = try PTEnv.require("DT_TEST_STATE") + "/logs/matching-engine-\(try PTEnv.portBase() + 8600).log"
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").filter { $0.contains("engine batch failed") }.count
    }

    /// Prices of 1e12 currency units: 1,000 shares are the largest notional one order may have (1e17 cents).
    static let hugePrice: Int64 = 1_000_000_000_000

    func testSellerProceedsNeverPassTheBound() throws {
        let api = try PTClient()
        let failedBefore = try Self.failedBatches()
        let seller = try api.newUser("ovs")
        let buyer = try api.newUser("ovb")
        let stock = try api.createStock(seller.token)
        api.grant(seller.token, stock, 3000)
        ptAssertSuccess(
            api.order(seller.token, stock, buy: false, limit: Self.hugePrice, 1000),
            "first ask: proceeds up to the bound")
        ptAssertFailure(
            api.order(seller.token, stock, buy: false, limit: Self.hugePrice, 1000), status: 400,
            "second ask: its proceeds could pass the bound")
        ptAssertFailure(api.order(seller.token, stock, buy: false, limit: 1, 1), status: 400, "even one more cent")
        api.deposit(buyer.token, String(LedgerBounds.maxBalanceCents / 100))
        ptAssertSuccess(api.order(buyer.token, stock, buy: true, limit: nil, 1000), "the buyer takes the whole ask")
        XCTAssertEqual(
            api.balance(seller.token), String(LedgerBounds.maxBalanceCents / 100), "the seller is at the bound")
        XCTAssertEqual(api.balance(buyer.token), "0")
        // Full: every sale and deposit is refused up front, nothing changes.
        ptAssertFailure(api.order(seller.token, stock, buy: false, limit: 1, 1), status: 400, "sale past the bound")
        let deposit = api.request("POST", "/transaction/addMoneyToWallet", token: seller.token, body: #"{"amount":1}"#)
        ptAssertFailure(deposit, status: 400, "deposit past the bound")
        let add = api.request("POST", "/classic/ADD", token: seller.token, body: #"{"amount":"0.01"}"#)
        XCTAssertEqual(add.status, 400, "classic ADD past the bound: \(add.body)")
        XCTAssertEqual(api.owned(seller.token, stock), "2000")

        // Others keep trading the same stock and another one.
        let other = try api.newUser("ovo")
        let taker = try api.newUser("ovt")
        api.grant(other.token, stock, 10)
        ptAssertSuccess(api.order(other.token, stock, buy: false, limit: 7, 10), "another seller's ask")
        api.deposit(taker.token, "100")
        ptAssertSuccess(api.order(taker.token, stock, buy: true, limit: nil, 10), "another buyer trades")
        XCTAssertEqual(api.balance(other.token), "70")
        XCTAssertEqual(try Self.failedBatches(), failedBefore, "no engine batch failed (so none was rebuilt)")
        try PTLedger.conservation()
        try PTLedger.headroomMatchesRestingOrders()
    }

    func testBuyerSharesNeverPassTheBound() throws {
        let api = try PTClient()
        let failedBefore = try Self.failedBatches()
        let seller = try api.newUser("obs")
        let buyer = try api.newUser("obb")
        let stock = try api.createStock(seller.token)
        api.grant(seller.token, stock, 100)
        ptAssertSuccess(api.order(seller.token, stock, buy: false, limit: 1, 100), "ask 100 @ 1")
        api.grant(buyer.token, stock, LedgerBounds.maxHoldingShares - 5)
        api.deposit(buyer.token, "1000")
        ptAssertFailure(
            api.order(buyer.token, stock, buy: true, limit: nil, 10), status: 400, "10 more shares pass the bound")
        ptAssertFailure(
            api.order(buyer.token, stock, buy: true, limit: 1, 6), status: 400, "a resting bid's shares count too")
        ptAssertSuccess(api.order(buyer.token, stock, buy: true, limit: nil, 5), "5 fit")
        XCTAssertEqual(api.owned(buyer.token, stock), String(LedgerBounds.maxHoldingShares))
        XCTAssertEqual(api.balance(buyer.token), "995")
        ptAssertFailure(
            api.request(
                "POST", "/setup/addStockToUser", token: buyer.token,
                body: #"{"stock_id":"\#(stock)","quantity":1}"#), status: 400, "grant past the bound")
        XCTAssertEqual(try Self.failedBatches(), failedBefore, "no engine batch failed")
        try PTLedger.conservation()
        try PTLedger.headroomMatchesRestingOrders()
    }

    /// A sell resting at its limit keeps headroom for what it can still earn; a cancel or a fill
    /// gives it back, so the seller can use it again.
    func testHeadroomIsReleasedByFillsAndCancels() throws {
        let api = try PTClient()
        let seller = try api.newUser("ohs")
        let buyer = try api.newUser("ohb")
        let stock = try api.createStock(seller.token)
        api.grant(seller.token, stock, 2000)
        ptAssertSuccess(api.order(seller.token, stock, buy: false, limit: Self.hugePrice, 1000), "ask at the bound")
        let ask = try XCTUnwrap(api.stockTxs(seller.token).last?["stock_tx_id"]?.stringValue)
        ptAssertSuccess(api.cancel(seller.token, ask), "cancel it")
        ptAssertSuccess(api.order(seller.token, stock, buy: false, limit: Self.hugePrice / 2, 1000), "half the bound")
        ptAssertSuccess(api.order(seller.token, stock, buy: false, limit: Self.hugePrice / 2, 1000), "the other half")
        api.deposit(buyer.token, String(Self.hugePrice * 500))
        ptAssertSuccess(api.order(buyer.token, stock, buy: true, limit: nil, 1000), "fill the first half")
        try PTLedger.headroomMatchesRestingOrders()
        try PTLedger.conservation()
    }
}
