import Foundation
import ServiceCore
import XCTest

/// Matching and money rules of spec/platform.md §2 and the decisions table, each on its own stock
/// and users (no reset needed): partial fills and children, multi-price fills, limit buys with
/// escrow and refunds, market sells, fill-or-kill, self-trade, cancel rules, input bounds.
final class EngineSemanticsTests: XCTestCase {
    var api: PTClient!

    override func setUpWithError() throws { api = try PTClient() }

    func testPartialFillsMakeChildrenAndTheLastSliceCompletesTheParent() throws {
        let seller = try api.newUser("sel").token
        let b1 = try api.newUser("b1").token
        let b2 = try api.newUser("b2").token
        let s = try api.createStock(seller)
        api.grant(seller, s, 100)
        ptAssertSuccess(api.order(seller, s, buy: false, limit: 10, 100), "sell 100 @ 10")
        XCTAssertEqual(api.owned(seller, s), "0", "shares escrowed at placement")
        api.deposit(b1, "1000")
        api.deposit(b2, "1000")
        ptAssertSuccess(api.order(b1, s, buy: true, limit: nil, 30), "buy 30")
        var txs = api.stockTxs(seller)
        XCTAssertEqual(txs.count, 2)
        XCTAssertEqual(txs[0].text("order_status"), "PARTIALLY_COMPLETE")
        XCTAssertEqual(txs[0].text("quantity"), "100", "parent keeps its original quantity")
        XCTAssertEqual(txs[1].text("parent_stock_tx_id"), txs[0].text("stock_tx_id"))
        XCTAssertEqual(txs[1].text("order_type"), "LIMIT")
        XCTAssertEqual(txs[1].text("quantity"), "30")
        ptAssertSuccess(api.order(b2, s, buy: true, limit: nil, 70), "buy 70")
        txs = api.stockTxs(seller)
        XCTAssertEqual(txs.map { $0.text("order_status") }, ["COMPLETED", "COMPLETED", "COMPLETED"])
        XCTAssertEqual(txs.map { $0.text("quantity") }, ["100", "30", "70"])
        let wallet = api.walletTxs(seller)
        XCTAssertEqual(wallet.map { $0.text("amount") }, ["300", "700"])
        XCTAssertEqual(wallet.map { $0.text("is_debit") }, ["false", "false"])
        XCTAssertEqual(wallet.map { $0.text("stock_tx_id") }, [txs[1].text("stock_tx_id"), txs[2].text("stock_tx_id")])
        XCTAssertEqual(api.balance(seller), "1000")
        XCTAssertEqual(api.balance(b1), "700")
        XCTAssertEqual(api.owned(b2, s), "70")
        XCTAssertEqual(api.price(b1, s), "10", "no ask left: the last trade price")
        try PTLedger.conservation()
        try PTLedger.headroomMatchesRestingOrders()
    }

    func testMultiPriceMarketBuyHasOneChildPerFillAndAveragePrice() throws {
        let s1 = try api.newUser("s1").token
        let s2 = try api.newUser("s2").token
        let buyer = try api.newUser("mb").token
        let s = try api.createStock(s1)
        api.grant(s1, s, 10)
        api.grant(s2, s, 10)
        ptAssertSuccess(api.order(s2, s, buy: false, limit: 12, 10), "ask 12")
        ptAssertSuccess(api.order(s1, s, buy: false, limit: 10, 10), "ask 10")
        XCTAssertEqual(api.price(buyer, s), "10", "current price = best ask")
        api.deposit(buyer, "200.50")
        ptAssertSuccess(api.order(buyer, s, buy: true, limit: nil, 15), "buy 15 across two levels")
        let txs = api.stockTxs(buyer)
        XCTAssertEqual(txs.count, 3)
        XCTAssertEqual(txs[0].text("wallet_tx_id"), "null", "multi-price parent has no wallet tx")
        XCTAssertEqual(txs[0].text("stock_price"), "11", "160/15 = 10.67 rounds to 11")
        XCTAssertEqual(txs[0].text("order_status"), "COMPLETED")
        XCTAssertEqual(txs[1...].map { "\($0.text("quantity"))@\($0.text("stock_price"))" }, ["10@10", "5@12"])
        XCTAssertEqual(txs[1...].map { $0.text("order_type") }, ["MARKET", "MARKET"])
        XCTAssertEqual(api.walletTxs(buyer).map { $0.text("amount") }, ["100", "60"])
        XCTAssertEqual(api.balance(buyer), "40.50", "cents render with two decimals")
        XCTAssertEqual(api.price(buyer, s), "12")
        try PTLedger.conservation()
        try PTLedger.headroomMatchesRestingOrders()
    }

    func testLimitBuyEscrowsCashFillsAsMakerAndCancelRefundsTheRest() throws {
        let buyer = try api.newUser("lb").token
        let seller = try api.newUser("ls").token
        let s = try api.createStock(seller)
        api.grant(seller, s, 50)
        api.deposit(buyer, "1000")
        ptAssertSuccess(api.order(buyer, s, buy: true, limit: 50, 10), "bid 10 @ 50")
        XCTAssertEqual(api.balance(buyer), "500", "cash leaves the balance when the bid is placed")
        ptAssertSuccess(api.order(seller, s, buy: false, limit: 45, 4), "ask 4 @ 45 crosses the bid")
        XCTAssertEqual(api.balance(seller), "200", "fills at the resting bid's price")
        XCTAssertEqual(api.owned(buyer, s), "4")
        var txs = api.stockTxs(buyer)
        XCTAssertEqual(txs[0].text("order_status"), "PARTIALLY_COMPLETE")
        XCTAssertEqual(txs[1].text("is_buy"), "true")
        XCTAssertEqual(api.walletTxs(buyer).map { "\($0.text("is_debit")):\($0.text("amount"))" }, ["true:200"])
        let sellerTxs = api.stockTxs(seller)
        XCTAssertEqual(sellerTxs.count, 1, "a taker filled at once at one price has no children")
        XCTAssertEqual(sellerTxs[0].text("order_status"), "COMPLETED")
        XCTAssertEqual(sellerTxs[0].text("stock_price"), "50", "filled at once: the trade's price, not its limit of 45")
        XCTAssertEqual(api.walletTxs(seller).map { $0.text("amount") }, ["200"], "4 × 50 = the wallet transaction")
        XCTAssertNotEqual(sellerTxs[0].text("wallet_tx_id"), "null")
        ptAssertSuccess(api.cancel(buyer, txs[0].text("stock_tx_id")), "cancel the rest")
        XCTAssertEqual(api.balance(buyer), "800", "the unfilled 6 × 50 come back")
        txs = api.stockTxs(buyer)
        XCTAssertEqual(txs[0].text("order_status"), "CANCELLED")
        XCTAssertEqual(txs[1].text("order_status"), "COMPLETED", "children stay")

        // Price improvement: a bid at 60 against an ask at 55 pays 55 and keeps the difference.
        ptAssertSuccess(api.order(seller, s, buy: false, limit: 55, 10), "ask 10 @ 55")
        ptAssertSuccess(api.order(buyer, s, buy: true, limit: 60, 10), "bid 10 @ 60 crosses")
        XCTAssertEqual(api.balance(buyer), "250")
        XCTAssertEqual(api.owned(buyer, s), "14")
        try PTLedger.conservation()
        try PTLedger.headroomMatchesRestingOrders()
    }

    func testMarketSellWalksTheBids() throws {
        let b1 = try api.newUser("mb1").token
        let b2 = try api.newUser("mb2").token
        let seller = try api.newUser("ms").token
        let s = try api.createStock(seller)
        api.grant(seller, s, 8)
        api.deposit(b1, "100")
        api.deposit(b2, "90")
        ptAssertSuccess(api.order(b2, s, buy: true, limit: 18, 5), "bid 5 @ 18")
        ptAssertSuccess(api.order(b1, s, buy: true, limit: 20, 5), "bid 5 @ 20")
        ptAssertSuccess(api.order(seller, s, buy: false, limit: nil, 8), "market sell 8")
        XCTAssertEqual(api.balance(seller), "154")
        let txs = api.stockTxs(seller)
        XCTAssertEqual(txs[0].text("stock_price"), "19", "154/8 = 19.25 rounds to 19")
        XCTAssertEqual(txs[1...].map { "\($0.text("quantity"))@\($0.text("stock_price"))" }, ["5@20", "3@18"])
        XCTAssertEqual(api.owned(b1, s), "5")
        XCTAssertEqual(api.owned(b2, s), "3")
        XCTAssertEqual(api.stockTxs(b2)[0].text("order_status"), "PARTIALLY_COMPLETE")
        XCTAssertEqual(api.order(seller, s, buy: false, limit: nil, 1).status, 400, "no shares left")
        try PTLedger.conservation()
        try PTLedger.headroomMatchesRestingOrders()
    }

    func testMarketOrdersAreFillOrKill() throws {
        let seller = try api.newUser("fs").token
        let buyer = try api.newUser("fb").token
        let s = try api.createStock(seller)
        api.grant(seller, s, 10)
        ptAssertSuccess(api.order(seller, s, buy: false, limit: 100, 10), "ask 10 @ 100")
        api.deposit(buyer, "500")
        ptAssertFailure(api.order(buyer, s, buy: true, limit: nil, 11), status: 400, "more than the book holds")
        ptAssertFailure(api.order(buyer, s, buy: true, limit: nil, 6), status: 400, "more than the balance pays")
        XCTAssertEqual(api.balance(buyer), "500")
        XCTAssertEqual(api.stockTxs(buyer).count, 0, "a rejected order leaves no transaction")
        XCTAssertEqual(api.stockTxs(seller)[0].text("order_status"), "IN_PROGRESS")
        ptAssertSuccess(api.order(buyer, s, buy: true, limit: nil, 5), "exactly affordable")
        XCTAssertEqual(api.balance(buyer), "0")
        ptAssertFailure(
            api.order(buyer, s, buy: false, limit: nil, 6), status: 400, "market sell into an empty bid side")
        try PTLedger.conservation()
        try PTLedger.headroomMatchesRestingOrders()
    }

    func testOwnOrdersAreSkipped() throws {
        let me = try api.newUser("self").token
        let other = try api.newUser("oth").token
        let s = try api.createStock(me)
        api.grant(me, s, 10)
        api.grant(other, s, 10)
        api.deposit(me, "1000")
        ptAssertSuccess(api.order(me, s, buy: false, limit: 10, 10), "my ask @ 10")
        ptAssertFailure(api.order(me, s, buy: true, limit: nil, 1), status: 400, "only my own ask: no liquidity")
        ptAssertSuccess(api.order(other, s, buy: false, limit: 20, 10), "their ask @ 20")
        ptAssertSuccess(api.order(me, s, buy: true, limit: nil, 3), "buy skips my ask")
        XCTAssertEqual(api.balance(me), "940")
        XCTAssertEqual(api.stockTxs(me)[0].text("order_status"), "IN_PROGRESS", "my ask untouched")
        XCTAssertEqual(api.balance(other), "60")
        try PTLedger.conservation()
        try PTLedger.headroomMatchesRestingOrders()
    }

    func testCancelRules() throws {
        let owner = try api.newUser("co").token
        let stranger = try api.newUser("cs").token
        let s = try api.createStock(owner)
        api.grant(owner, s, 10)
        ptAssertSuccess(api.order(owner, s, buy: false, limit: 7, 10), "ask")
        let id = api.stockTxs(owner)[0].text("stock_tx_id")
        ptAssertFailure(api.cancel(stranger, id), status: 404, "someone else's order")
        ptAssertFailure(api.cancel(owner, "999999999999"), status: 404, "unknown id")
        ptAssertFailure(api.cancel(owner, "abc"), status: 400, "malformed id")
        ptAssertSuccess(api.cancel(owner, id), "cancel")
        XCTAssertEqual(api.owned(owner, s), "10")
        ptAssertFailure(api.cancel(owner, id), status: 400, "already cancelled")
        api.deposit(stranger, "70")
        ptAssertSuccess(api.order(owner, s, buy: false, limit: 7, 10), "ask again")
        ptAssertSuccess(api.order(stranger, s, buy: true, limit: nil, 10), "fill it all")
        let done = api.stockTxs(owner)[1].text("stock_tx_id")
        XCTAssertEqual(api.stockTxs(owner)[1].text("order_status"), "COMPLETED")
        ptAssertFailure(api.cancel(owner, done), status: 400, "completed order")
        XCTAssertEqual(api.price(owner, s), "7", "no ask left: the last trade price")
        try PTLedger.conservation()
        try PTLedger.headroomMatchesRestingOrders()
    }

    func testACompletedParentShowsTheAveragePriceOfAllItsFills() throws {
        // A limit buy that takes 2 @ 25 at once, rests 3 @ 30, and later fills as the maker.
        let s1 = try api.newUser("vw1").token
        let s2 = try api.newUser("vw2").token
        let b = try api.newUser("vwb").token
        let s = try api.createStock(s1)
        api.grant(s1, s, 2)
        ptAssertSuccess(api.order(s1, s, buy: false, limit: 25, 2), "ask 2 @ 25")
        api.deposit(b, "1000")
        ptAssertSuccess(api.order(b, s, buy: true, limit: 30, 5), "bid 5 @ 30: 2 fill at 25, 3 rest")
        var parent = try XCTUnwrap(api.stockTxs(b).first)
        XCTAssertEqual(parent.text("order_status"), "PARTIALLY_COMPLETE")
        XCTAssertEqual(parent.text("stock_price"), "30", "its limit while some of it rests")
        api.grant(s2, s, 3)
        ptAssertSuccess(api.order(s2, s, buy: false, limit: 30, 3), "ask 3 @ 30 fills the rest")
        parent = try XCTUnwrap(api.stockTxs(b).first)
        XCTAssertEqual(parent.text("order_status"), "COMPLETED")
        XCTAssertEqual(parent.text("stock_price"), "28", "(2 × 25 + 3 × 30) / 5")
        XCTAssertEqual(api.balance(b), "860")
        try PTLedger.conservation()
    }

    func testPortfolioListsStocksInTheOrderTheyWereCreated() throws {
        let u = try api.newUser("pord").token
        let first = try api.createStock(u)
        let second = try api.createStock(u)
        api.grant(u, second, 2) // acquired first
        api.grant(u, first, 1)
        let r = api.request("GET", "/transaction/getStockPortfolio", token: u)
        let ids = (r.value("$.data")?.arrayValue ?? []).map { PTResponse.text($0["stock_id"]) }
        XCTAssertEqual(ids, [first, second], "spec §1.1: stocks by creation, not by acquisition")
    }

    func testInvalidPayloadsAndBounds() throws {
        let u = try api.newUser("inv").token
        let s = try api.createStock(u)
        api.grant(u, s, 5)
        let bad: [(String, String)] = [
            ("/engine/placeStockOrder", "not json"),
            ("/engine/placeStockOrder", "[]"),
            ("/engine/placeStockOrder", #"{"stock_id":"\#(s)","is_buy":true,"order_type":"MARKET"}"#),
            ("/engine/placeStockOrder", #"{"stock_id":"\#(s)","is_buy":"true","order_type":"MARKET","quantity":1}"#),
            ("/engine/placeStockOrder", #"{"stock_id":"\#(s)","is_buy":true,"order_type":"market","quantity":1}"#),
            ("/engine/placeStockOrder", #"{"stock_id":"\#(s)","is_buy":true,"order_type":"MARKET","quantity":"1"}"#),
            ("/engine/placeStockOrder", #"{"stock_id":"\#(s)","is_buy":true,"order_type":"MARKET","quantity":0}"#),
            ("/engine/placeStockOrder", #"{"stock_id":"\#(s)","is_buy":true,"order_type":"MARKET","quantity":1.5}"#),
            (
                "/engine/placeStockOrder",
                #"{"stock_id":"\#(s)","is_buy":true,"order_type":"MARKET","quantity":1,"price":10}"#
            ),
            ("/engine/placeStockOrder", #"{"stock_id":"\#(s)","is_buy":false,"order_type":"LIMIT","quantity":1}"#),
            (
                "/engine/placeStockOrder",
                #"{"stock_id":"\#(s)","is_buy":false,"order_type":"LIMIT","quantity":1,"price":-3}"#
            ),
            (
                "/engine/placeStockOrder",
                #"{"stock_id":"\#(s)","is_buy":false,"order_type":"LIMIT","quantity":1,"price":10.5}"#
            ),
            (
                "/engine/placeStockOrder",
                #"{"stock_id":"\#(s)","is_buy":false,"order_type":"LIMIT","quantity":99999999999999999999,"price":1}"#
            ),
            (
                "/engine/placeStockOrder",
                #"{"stock_id":"\#(s)","is_buy":false,"order_type":"LIMIT","quantity":1000000000000000,"price":1000}"#
            ),
            ("/engine/placeStockOrder", #"{"stock_id":"x1","is_buy":true,"order_type":"MARKET","quantity":1}"#),
            ("/transaction/addMoneyToWallet", #"{"amount":0}"#),
            ("/transaction/addMoneyToWallet", #"{"amount":10.123}"#),
            ("/transaction/addMoneyToWallet", #"{"amount":"100"}"#),
            ("/transaction/addMoneyToWallet", #"{"amount":1e-3}"#),
            ("/transaction/addMoneyToWallet", #"{"amount":1e20}"#),
            ("/transaction/addMoneyToWallet", #"{"amount":5,"amount":-5}"#),
            ("/setup/addStockToUser", #"{"stock_id":"\#(s)","quantity":1,"quantity":-1}"#),
            ("/transaction/addMoneyToWallet", #"{"amount":9223372036854775807}"#),
            ("/transaction/addMoneyToWallet", #"{"amount":1000000000000001}"#),
            ("/setup/addStockToUser", #"{"stock_id":"\#(s)","quantity":-1}"#),
            ("/setup/addStockToUser", #"{"stock_id":"\#(s)","quantity":1000000000000001}"#),
            ("/setup/createStock", #"{"stock_name":""}"#),
            ("/setup/createStock", #"{"stock_name":42}"#),
            ("/setup/createStock", #"{"stock_name":" "}"#),
            ("/setup/createStock", #"{"stock_name":" Padded"}"#),
        ]
        for (path, body) in bad {
            ptAssertFailure(api.request("POST", path, token: u, body: body), status: 400, "\(path) \(body)")
        }
        // Numbers count by value, however they are spelled (Python's json writes 5.0 for a float).
        let v = try api.newUser("val").token
        ptAssertSuccess(
            api.request("POST", "/transaction/addMoneyToWallet", token: v, body: #"{"amount":1.5e2}"#), "1.5e2")
        ptAssertSuccess(
            api.request("POST", "/transaction/addMoneyToWallet", token: v, body: #"{"amount":2.500}"#), "2.500")
        XCTAssertEqual(api.balance(v), "152.50")
        ptAssertSuccess(
            api.request("POST", "/setup/addStockToUser", token: v, body: #"{"stock_id":"\#(s)","quantity":3.0}"#), "3.0"
        )
        XCTAssertEqual(api.owned(v, s), "3")
        let name = PTEnv.unique("dup")
        ptAssertSuccess(
            api.request("POST", "/setup/createStock", token: u, body: #"{"stock_name":"\#(name)"}"#), "new name")
        ptAssertFailure(
            api.request("POST", "/setup/createStock", token: u, body: #"{"stock_name":"\#(name)"}"#), status: 400,
            "duplicate name")
        ptAssertFailure(api.order(u, "999999999999", buy: true, limit: nil, 1), status: 404, "unknown stock")
        ptAssertFailure(
            api.request("POST", "/setup/addStockToUser", token: u, body: #"{"stock_id":"999999999999","quantity":1}"#),
            status: 404, "grant of an unknown stock")
        ptAssertFailure(api.order(u, s, buy: false, limit: 1, 6), status: 400, "selling more than owned")
        XCTAssertEqual(api.owned(u, s), "5")
        // Holdings stay within 1e15 shares: the largest grant fits once, not twice.
        let big = try api.createStock(u)
        api.grant(u, big, 1_000_000_000_000_000)
        ptAssertFailure(
            api.request("POST", "/setup/addStockToUser", token: u, body: #"{"stock_id":"\#(big)","quantity":1}"#),
            status: 400, "holding past the bound")
        api.deposit(u, "10.5")
        XCTAssertEqual(api.balance(u), "10.50")
        api.deposit(u, "999999999999989.50") // up to exactly 1e17 cents
        ptAssertFailure(
            api.request("POST", "/transaction/addMoneyToWallet", token: u, body: #"{"amount":1}"#), status: 400,
            "balance past the bound")
        XCTAssertEqual(api.request("GET", "/transaction/getWalletBalance", token: nil).status, 401, "no token")
        try PTLedger.conservation()
        try PTLedger.headroomMatchesRestingOrders()
    }
}
