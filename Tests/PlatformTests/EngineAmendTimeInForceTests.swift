import Foundation
import ServiceCore
import XCTest

/// time_in_force on LIMIT orders and amendStockOrder: fills, escrow, refunds, priority and the
/// ledger rows, each on its own stock and users, with conservation checked after every test.
final class EngineAmendTimeInForceTests: XCTestCase {
    var api: PTClient!

    override func setUpWithError() throws { api = try PTClient() }

    // MARK: time in force

    func testIOCBuyFillsWhatCrossesAndRefundsTheRest() throws {
        let seller = try api.newUser("is").token
        let buyer = try api.newUser("ib").token
        let s = try api.createStock(seller)
        api.grant(seller, s, 10)
        ptAssertSuccess(api.order(seller, s, buy: false, limit: 10, 4), "ask 4 @ 10")
        api.deposit(buyer, "1000")
        ptAssertSuccess(api.tifOrder(buyer, s, buy: true, limit: 12, 10, "IOC"), "IOC buy 10 @ 12")
        XCTAssertEqual(api.balance(buyer), "960", "pays 4 × 10; the other 6 × 12 of escrow comes back")
        XCTAssertEqual(api.owned(buyer, s), "4")
        let txs = api.stockTxs(buyer)
        XCTAssertEqual(txs.map { $0.text("order_status") }, ["CANCELLED", "COMPLETED"])
        XCTAssertEqual(txs.map { $0.text("quantity") }, ["10", "4"])
        XCTAssertEqual(txs[1].text("parent_stock_tx_id"), txs[0].text("stock_tx_id"), "the fill is a child")
        XCTAssertEqual(api.walletTxs(buyer).map { $0.text("amount") }, ["40"])
        ptAssertFailure(api.cancel(buyer, txs[0].text("stock_tx_id")), status: 400, "nothing rests to cancel")
        XCTAssertEqual(api.balance(seller), "40")
        try PTLedger.conservation()
        try PTLedger.headroomMatchesRestingOrders()
    }

    func testIOCSellThatMeetsNothingIsCancelledAndTheSharesReturn() throws {
        let seller = try api.newUser("in").token
        let bidder = try api.newUser("ibd").token
        let s = try api.createStock(seller)
        api.grant(seller, s, 5)
        api.deposit(bidder, "100")
        ptAssertSuccess(api.order(bidder, s, buy: true, limit: 8, 5), "bid 5 @ 8 (below the IOC's limit)")
        ptAssertSuccess(api.tifOrder(seller, s, buy: false, limit: 9, 5, "IOC"), "IOC sell 5 @ 9")
        XCTAssertEqual(api.owned(seller, s), "5", "nothing filled: every share is free again")
        XCTAssertEqual(api.stockTxs(seller).map { $0.text("order_status") }, ["CANCELLED"])
        XCTAssertEqual(api.stockTxs(bidder)[0].text("order_status"), "IN_PROGRESS", "the bid was not touched")
        try PTLedger.conservation()
        try PTLedger.headroomMatchesRestingOrders()
    }

    func testFOKFillsCompletelyOrChangesNothing() throws {
        let s1 = try api.newUser("f1").token
        let s2 = try api.newUser("f2").token
        let buyer = try api.newUser("fk").token
        let s = try api.createStock(s1)
        api.grant(s1, s, 3)
        api.grant(s2, s, 3)
        ptAssertSuccess(api.order(s1, s, buy: false, limit: 10, 3), "ask 3 @ 10")
        ptAssertSuccess(api.order(s2, s, buy: false, limit: 11, 3), "ask 3 @ 11")
        api.deposit(buyer, "1000")
        ptAssertFailure(api.tifOrder(buyer, s, buy: true, limit: 11, 7, "FOK"), status: 400, "7 wanted, 6 cross")
        ptAssertFailure(api.tifOrder(buyer, s, buy: true, limit: 10, 4, "FOK"), status: 400, "4 wanted, 3 at ≤ 10")
        XCTAssertEqual(api.balance(buyer), "1000")
        XCTAssertEqual(api.stockTxs(buyer).count, 0, "a rejected FOK leaves no transaction")
        XCTAssertEqual(api.stockTxs(s1)[0].text("order_status"), "IN_PROGRESS")
        ptAssertSuccess(api.tifOrder(buyer, s, buy: true, limit: 11, 6, "FOK"), "exactly what crosses")
        XCTAssertEqual(api.balance(buyer), "937")
        XCTAssertEqual(api.owned(buyer, s), "6")
        XCTAssertEqual(api.stockTxs(buyer).first?.text("order_status"), "COMPLETED")
        try PTLedger.conservation()
        try PTLedger.headroomMatchesRestingOrders()
    }

    func testTimeInForceInputs() throws {
        let u = try api.newUser("tv").token
        let s = try api.createStock(u)
        api.grant(u, s, 5)
        let body = { (extra: String) in
            #"{"stock_id":"\#(s)","is_buy":false,"order_type":"LIMIT","quantity":1,"price":5\#(extra)}"#
        }
        for bad in [#","time_in_force":"DAY""#, #","time_in_force":"ioc""#, #","time_in_force":1"#] {
            ptAssertFailure(api.request("POST", "/engine/placeStockOrder", token: u, body: body(bad)), status: 400, bad)
        }
        let market = #"{"stock_id":"\#(s)","is_buy":false,"order_type":"MARKET","quantity":1,"time_in_force":"IOC"}"#
        ptAssertFailure(
            api.request("POST", "/engine/placeStockOrder", token: u, body: market), status: 400, "MARKET + IOC")
        ptAssertSuccess(
            api.request("POST", "/engine/placeStockOrder", token: u, body: body(#","time_in_force":null"#)),
            "null = GTC")
        ptAssertSuccess(
            api.request("POST", "/engine/placeStockOrder", token: u, body: body(#","time_in_force":"GTC""#)), "GTC")
        XCTAssertEqual(api.stockTxs(u).map { $0.text("order_status") }, ["IN_PROGRESS", "IN_PROGRESS"])
        XCTAssertEqual(api.owned(u, s), "3")
        try PTLedger.conservation()
        try PTLedger.headroomMatchesRestingOrders()
    }

    func testMarketOrdersDecideInOneWalkAndRefusalsChangeNothing() throws {
        let seller = try api.newUser("ms1").token
        let buyer = try api.newUser("mb1").token
        let s = try api.createStock(seller)
        api.grant(seller, s, 10)
        api.deposit(buyer, "100")
        ptAssertSuccess(api.order(buyer, s, buy: true, limit: 9, 5), "bid 5 @ 9")
        ptAssertFailure(api.order(seller, s, buy: false, limit: nil, 6), status: 400, "6 to sell, 5 bid")
        XCTAssertEqual(api.owned(seller, s), "10", "the refused sell's shares are free again")
        ptAssertSuccess(api.order(seller, s, buy: false, limit: 20, 5), "ask 5 @ 20")
        ptAssertFailure(api.order(buyer, s, buy: true, limit: nil, 3), status: 400, "3 × 20 > the 55 left")
        XCTAssertEqual(api.balance(buyer), "55")
        XCTAssertEqual(api.stockTxs(seller).map { $0.text("order_status") }, ["IN_PROGRESS"])
        ptAssertSuccess(api.order(seller, s, buy: false, limit: nil, 5), "market sell 5 into the bid")
        XCTAssertEqual(api.balance(seller), "45")
        XCTAssertEqual(api.owned(buyer, s), "5")
        try PTLedger.conservation()
        try PTLedger.headroomMatchesRestingOrders()
    }

    // MARK: amend

    /// b1 then b2 bid 10 @ 50 (each with 1000 deposited); the seller holds 20 shares.
    private func twoBids() throws -> (b1: String, b2: String, seller: String, stock: String, b1Order: String) {
        let b1 = try api.newUser("bb1").token
        let b2 = try api.newUser("bb2").token
        let seller = try api.newUser("bbs").token
        let s = try api.createStock(seller)
        api.grant(seller, s, 20)
        api.deposit(b1, "1000")
        api.deposit(b2, "1000")
        ptAssertSuccess(api.order(b1, s, buy: true, limit: 50, 10), "b1 bids first")
        ptAssertSuccess(api.order(b2, s, buy: true, limit: 50, 10), "b2 bids second")
        return (b1, b2, seller, s, api.stockTxs(b1)[0].text("stock_tx_id"))
    }

    func testAmendDownKeepsPriorityAndRefundsTheEscrow() throws {
        let (b1, b2, seller, s, id) = try twoBids()
        ptAssertSuccess(api.amend(b1, id, quantity: 4), "b1 down to 4")
        XCTAssertEqual(api.balance(b1), "800", "reserve is now 4 × 50")
        try reopenEngine() // the kept priority must survive a rebuild from the ledger
        ptAssertSuccess(api.order(seller, s, buy: false, limit: nil, 5), "market sell 5")
        XCTAssertEqual(api.owned(b1, s), "4", "b1 kept its place and fills first")
        XCTAssertEqual(api.owned(b2, s), "1")
        XCTAssertEqual(api.stockTxs(b1).map { $0.text("quantity") }, ["4", "4"])
        XCTAssertEqual(api.stockTxs(b1)[0].text("order_status"), "COMPLETED")
        try PTLedger.conservation()
        try PTLedger.headroomMatchesRestingOrders()
    }

    func testAmendUpLosesPriorityAndReservesMore() throws {
        let (b1, b2, seller, s, id) = try twoBids()
        ptAssertFailure(api.amend(b1, id, quantity: 21), status: 400, "21 × 50 is more than b1 has")
        XCTAssertEqual(api.balance(b1), "500", "a refused amend changes nothing")
        ptAssertSuccess(api.amend(b1, id, quantity: 12), "b1 up to 12")
        XCTAssertEqual(api.balance(b1), "400")
        try reopenEngine() // the lost priority (new seq) must survive a rebuild too
        ptAssertSuccess(api.order(seller, s, buy: false, limit: nil, 11), "market sell 11")
        XCTAssertEqual(api.owned(b2, s), "10", "b2 is now first")
        XCTAssertEqual(api.owned(b1, s), "1")
        ptAssertSuccess(api.cancel(b1, id), "cancel the rest of b1")
        XCTAssertEqual(api.balance(b1), "950", "11 × 50 back, 1 × 50 paid")
        try PTLedger.conservation()
        try PTLedger.headroomMatchesRestingOrders()
    }

    func testAmendPriceAcrossTheSpreadTradesAsTaker() throws {
        let buyer = try api.newUser("ap").token
        let seller = try api.newUser("aps").token
        let s = try api.createStock(seller)
        api.grant(seller, s, 5)
        ptAssertSuccess(api.order(seller, s, buy: false, limit: 60, 5), "ask 5 @ 60")
        api.deposit(buyer, "1000")
        ptAssertSuccess(api.order(buyer, s, buy: true, limit: 50, 10), "bid 10 @ 50")
        let id = api.stockTxs(buyer)[0].text("stock_tx_id")
        ptAssertSuccess(api.amend(buyer, id, price: 61), "re-price to 61: crosses the ask")
        XCTAssertEqual(api.owned(buyer, s), "5")
        XCTAssertEqual(api.balance(buyer), "395", "5 × 60 paid, 5 × 61 still reserved")
        XCTAssertEqual(api.balance(seller), "300")
        let txs = api.stockTxs(buyer)
        XCTAssertEqual(
            txs.map { "\($0.text("order_status")):\($0.text("quantity"))@\($0.text("stock_price"))" },
            ["PARTIALLY_COMPLETE:10@61", "COMPLETED:5@60"])
        XCTAssertEqual(txs[1].text("parent_stock_tx_id"), id)
        XCTAssertEqual(api.stockTxs(seller)[0].text("order_status"), "COMPLETED")
        XCTAssertEqual(api.walletTxs(buyer).map { "\($0.text("is_debit")):\($0.text("amount"))" }, ["true:300"])
        ptAssertSuccess(api.cancel(buyer, id), "cancel the rest")
        XCTAssertEqual(api.balance(buyer), "700")
        try PTLedger.conservation()
        try PTLedger.headroomMatchesRestingOrders()
    }

    func testAmendSellCountsTheFilledPart() throws {
        let seller = try api.newUser("as").token
        let buyer = try api.newUser("asb").token
        let s = try api.createStock(seller)
        api.grant(seller, s, 12)
        ptAssertSuccess(api.order(seller, s, buy: false, limit: 20, 10), "ask 10 @ 20")
        api.deposit(buyer, "1000")
        ptAssertSuccess(api.order(buyer, s, buy: true, limit: nil, 4), "market buy 4")
        let id = api.stockTxs(seller)[0].text("stock_tx_id")
        ptAssertFailure(api.amend(seller, id, quantity: 4), status: 400, "4 are already filled")
        ptAssertSuccess(api.amend(seller, id, quantity: 8), "total 8: 4 left to sell")
        XCTAssertEqual(api.owned(seller, s), "4", "2 unreserved shares come back")
        ptAssertFailure(api.amend(seller, id, quantity: 13), status: 400, "9 left would need 5 more shares; 4 are free")
        ptAssertSuccess(api.amend(seller, id, quantity: 12, price: 25), "total 12 at 25")
        XCTAssertEqual(api.owned(seller, s), "0")
        let order = api.stockTxs(seller).first { $0.text("stock_tx_id") == id }
        XCTAssertEqual(order?.text("stock_price"), "25")
        // Oldest first (spec §1.1): the amend moved the order in the book (a new seq), not in time.
        let listed = api.stockTxs(seller)
        XCTAssertEqual(listed.first?.text("stock_tx_id"), id, "the order still lists before its fill's child")
        XCTAssertEqual(listed.map { $0.text("time_stamp") }, listed.map { $0.text("time_stamp") }.sorted())
        ptAssertSuccess(api.order(buyer, s, buy: true, limit: nil, 8), "market buy the other 8")
        XCTAssertEqual(api.balance(seller), "280", "4 × 20 + 8 × 25")
        XCTAssertEqual(api.stockTxs(seller).map { $0.text("order_status") }, ["COMPLETED", "COMPLETED", "COMPLETED"])
        try PTLedger.conservation()
        try PTLedger.headroomMatchesRestingOrders()
    }

    func testAmendRules() throws {
        let owner = try api.newUser("ar").token
        let stranger = try api.newUser("arx").token
        let s = try api.createStock(owner)
        api.grant(owner, s, 10)
        ptAssertSuccess(api.order(owner, s, buy: false, limit: 7, 10), "ask")
        let id = api.stockTxs(owner)[0].text("stock_tx_id")
        ptAssertFailure(api.amend(stranger, id, quantity: 5), status: 404, "someone else's order")
        ptAssertFailure(api.amend(owner, "999999999999", quantity: 5), status: 404, "unknown id")
        ptAssertFailure(api.amend(owner, id), status: 400, "neither quantity nor price")
        ptAssertFailure(api.amend(owner, id, quantity: 0), status: 400, "quantity 0")
        ptAssertFailure(
            api.request(
                "POST", "/engine/amendStockOrder", token: owner,
                body: #"{"stock_tx_id":"\#(id)","price":7.5}"#), status: 400, "fractional price")
        ptAssertSuccess(api.cancel(owner, id), "cancel")
        ptAssertFailure(api.amend(owner, id, quantity: 5), status: 400, "cancelled order")
        XCTAssertEqual(api.owned(owner, s), "10")
        try PTLedger.conservation()
        try PTLedger.headroomMatchesRestingOrders()
    }

    /// Makes the engine rebuild its books from the ledger (skipped where the stack has no reset).
    private func reopenEngine() throws {
        let r = try PTEnv.signedClient.request(
            try PTEnv.engine(), method: "POST", path: "/internal/reset", timeoutMillis: 30_000)
        if r.status == 404 { return }
        XCTAssertEqual(r.status, 200, "engine rebuild: " + String(decoding: r.body, as: UTF8.self))
    }
}

extension PTClient {
    func tifOrder(_ token: String, _ stock: String, buy: Bool, limit price: Int64, _ quantity: Int64, _ tif: String)
        -> PTResponse
    {
        request(
            "POST", "/engine/placeStockOrder", token: token,
            body: """
                {"stock_id":"\(stock)","is_buy":\(buy),"order_type":"LIMIT","quantity":\(quantity),"price":\(price),"time_in_force":"\(tif)"}
                """)
    }

    func amend(_ token: String, _ txId: String, quantity: Int64? = nil, price: Int64? = nil) -> PTResponse {
        var fields = [#""stock_tx_id":"\#(txId)""#]
        if let quantity { fields.append(#""quantity":\#(quantity)"#) }
        if let price { fields.append(#""price":\#(price)"#) }
        return request("POST", "/engine/amendStockOrder", token: token, body: "{" + fields.joined(separator: ",") + "}")
    }
}
