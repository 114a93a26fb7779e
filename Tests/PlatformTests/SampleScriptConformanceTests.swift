import ServiceCore
import XCTest

/// The course's functional acceptance plan, Sample_test_script2.jmx (27 steps, one thread), replayed
/// request for request with every assertion it makes (status codes, JSONPath values, orderings,
/// nulls), plus stricter checks JMeter cannot express (integers are JSON numbers, keys present).
/// The plan needs a brand-new system, so the ledger is reset first.
final class SampleScriptConformanceTests: XCTestCase {
    func testSampleTestScript2AllSteps() throws {
        try PTLedger.resetAll()
        let api = try PTClient()
        let invalidToken = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9"

        // 1–4: company registration and login.
        var r = api.register("VanguardETF", "Vang@123", "Vanguard Corp.")
        ptAssertSuccess(r, "1 Register")
        r = api.register("VanguardETF", "Comp@124", "Vanguard Ltd.")
        ptAssertFailure(r, status: 400, "2 Failed Register")
        r = api.login("VanguardETF", "Vang@1234")
        ptAssertFailure(r, status: 400, "3 Failed Login")
        r = api.login("VanguardETF", "Vang@123")
        ptAssertSuccess(r, "4 Login")
        let compToken = try XCTUnwrap(r.value("$.data.token")?.stringValue, "4 Login: $.data.token")

        // 5–8: stocks and shares.
        r = api.request("POST", "/setup/createStock", token: compToken, body: #"{"stock_name":"Google"}"#)
        ptAssertSuccess(r, "5 Create Google")
        let google = try XCTUnwrap(r.value("$.data.stock_id")?.stringValue, "5: stock_id is a string")
        XCTAssertFalse(google.contains(","), "ids must not contain commas")
        r = api.request(
            "POST", "/setup/addStockToUser", token: compToken, body: #"{"stock_id": "\#(google)","quantity": 550}"#)
        ptAssertSuccess(r, "6 Add Google")
        XCTAssertEqual(r.path("$.data"), "null", "6: data is null")
        r = api.request("POST", "/setup/createStock", token: compToken, body: #"{"stock_name":"Apple"}"#)
        ptAssertSuccess(r, "7 Create Apple")
        let apple = try XCTUnwrap(r.value("$.data.stock_id")?.stringValue, "7: stock_id is a string")
        r = api.request(
            "POST", "/setup/addStockToUser", token: compToken, body: #"{"stock_id": "\#(apple)","quantity": 350}"#)
        ptAssertSuccess(r, "8 Add Apple")

        // 9: portfolio in the order the stocks were added.
        r = api.request("GET", "/transaction/getStockPortfolio", token: compToken)
        ptAssertSuccess(r, "9 Portfolio")
        ptAssertPaths(
            r,
            [
                ("$.data[0].stock_id", google), ("$.data[0].stock_name", "Google"), ("$.data[0].quantity_owned", "550"),
                ("$.data[1].stock_id", apple), ("$.data[1].stock_name", "Apple"), ("$.data[1].quantity_owned", "350"),
            ], "9")
        ptAssertInteger(r, "$.data[0].quantity_owned")
        XCTAssertEqual(r.value("$.data")?.arrayValue?.count, 2)

        // 10–11: the company sells everything (limit); 12: shares left the portfolio (escrow).
        r = api.request(
            "POST", "/engine/placeStockOrder", token: compToken,
            body:
                "{\"stock_id\":\"\(google)\", \"is_buy\":false, \"order_type\":\"LIMIT\", \"quantity\":550,\r\n\"price\":135}"
        )
        ptAssertSuccess(r, "10 Sell Google")
        XCTAssertEqual(r.path("$.data"), "null")
        r = api.request(
            "POST", "/engine/placeStockOrder", token: compToken,
            body:
                "{\"stock_id\":\"\(apple)\", \"is_buy\":false, \"order_type\":\"LIMIT\", \"quantity\":350,\r\n\"price\":140}"
        )
        ptAssertSuccess(r, "11 Sell Apple")
        r = api.request("GET", "/transaction/getStockPortfolio", token: compToken)
        ptAssertSuccess(r, "12 Portfolio")
        ptAssertPaths(r, [("$.data", "[]")], "12")

        // 13: both sell orders, oldest first, with present-but-null parent and wallet ids.
        r = api.request("GET", "/transaction/getStockTransactions", token: compToken)
        ptAssertSuccess(r, "13 Stock transactions")
        ptAssertPaths(
            r,
            [
                ("$.data[0].parent_stock_tx_id", "null"), ("$.data[0].wallet_tx_id", "null"),
                ("$.data[0].stock_id", google),
                ("$.data[0].order_status", "IN_PROGRESS"), ("$.data[0].is_buy", "false"),
                ("$.data[0].order_type", "LIMIT"),
                ("$.data[0].stock_price", "135"), ("$.data[0].quantity", "550"),
                ("$.data[1].parent_stock_tx_id", "null"), ("$.data[1].wallet_tx_id", "null"),
                ("$.data[1].stock_id", apple),
                ("$.data[1].order_status", "IN_PROGRESS"), ("$.data[1].is_buy", "false"),
                ("$.data[1].order_type", "LIMIT"),
                ("$.data[1].stock_price", "140"), ("$.data[1].quantity", "350"),
            ], "13")
        ptAssertInteger(r, "$.data[0].stock_price")
        ptAssertInteger(r, "$.data[0].quantity")
        XCTAssertNotNil(r.value("$.data[0].time_stamp")?.stringValue, "13: time_stamp is a string")
        let googleCompStockTxId = try XCTUnwrap(
            r.value("$.data[0].stock_tx_id")?.stringValue, "13: stock_tx_id is a string")

        // 14–15: the investor.
        r = api.register("FinanceGuru", "Fguru@2024", "The Finance Guru")
        ptAssertSuccess(r, "14 Register")
        r = api.login("FinanceGuru", "Fguru@2024")
        ptAssertSuccess(r, "15 Login")
        let userToken = try XCTUnwrap(r.value("$.data.token")?.stringValue)

        // 16: prices in creation order.
        r = api.request("GET", "/transaction/getStockPrices", token: userToken)
        ptAssertSuccess(r, "16 Prices")
        ptAssertPaths(
            r,
            [
                ("$.data[0].stock_id", google), ("$.data[0].stock_name", "Google"), ("$.data[0].current_price", "135"),
                ("$.data[1].stock_id", apple), ("$.data[1].stock_name", "Apple"), ("$.data[1].current_price", "140"),
            ], "16")
        ptAssertInteger(r, "$.data[0].current_price")
        XCTAssertEqual(r.value("$.data")?.arrayValue?.count, 2, "16: exactly the two stocks")

        // 17–18: deposit and balance.
        r = api.request("POST", "/transaction/addMoneyToWallet", token: userToken, body: #"{"amount":10000}"#)
        ptAssertSuccess(r, "17 Add money")
        r = api.request("GET", "/transaction/getWalletBalance", token: userToken)
        ptAssertSuccess(r, "18 Balance")
        ptAssertPaths(r, [("$.data.balance", "10000")], "18")
        ptAssertInteger(r, "$.data.balance")

        // 19: market buy without a price key.
        r = api.request(
            "POST", "/engine/placeStockOrder", token: userToken,
            body: #"{"stock_id":"\#(google)", "is_buy":true, "order_type":"MARKET", "quantity":10}"#)
        ptAssertSuccess(r, "19 Market buy")

        // 20: the buy is complete at 135.
        r = api.request("GET", "/transaction/getStockTransactions", token: userToken)
        ptAssertSuccess(r, "20 Stock transactions")
        ptAssertPaths(
            r,
            [
                ("$.data[0].parent_stock_tx_id", "null"), ("$.data[0].stock_id", google),
                ("$.data[0].order_status", "COMPLETED"), ("$.data[0].is_buy", "true"),
                ("$.data[0].order_type", "MARKET"),
                ("$.data[0].stock_price", "135"), ("$.data[0].quantity", "10"),
            ], "20")
        XCTAssertEqual(
            r.value("$.data")?.arrayValue?.count, 1, "20: one transaction (a one-price fill has no children)")
        let userStockTxId = try XCTUnwrap(r.value("$.data[0].stock_tx_id")?.stringValue)
        let userWalletTxId = try XCTUnwrap(
            r.value("$.data[0].wallet_tx_id")?.stringValue, "20: wallet_tx_id is a string id")

        // 21: the debit, linked both ways.
        r = api.request("GET", "/transaction/getWalletTransactions", token: userToken)
        ptAssertSuccess(r, "21 Wallet transactions")
        ptAssertPaths(
            r,
            [
                ("$.data[0].wallet_tx_id", userWalletTxId), ("$.data[0].stock_tx_id", userStockTxId),
                ("$.data[0].is_debit", "true"), ("$.data[0].amount", "1350"),
            ], "21")
        ptAssertInteger(r, "$.data[0].amount")
        XCTAssertEqual(r.value("$.data")?.arrayValue?.count, 1, "21: deposits are not wallet transactions")

        // 22–23.
        r = api.request("GET", "/transaction/getWalletBalance", token: userToken)
        ptAssertSuccess(r, "22 Balance")
        ptAssertPaths(r, [("$.data.balance", "8650")], "22")
        r = api.request("GET", "/transaction/getStockPortfolio", token: userToken)
        ptAssertSuccess(r, "23 Portfolio")
        ptAssertPaths(
            r,
            [("$.data[0].stock_id", google), ("$.data[0].stock_name", "Google"), ("$.data[0].quantity_owned", "10")],
            "23")

        // 24–25: the company cancels its partly filled Google sell; it stays listed as CANCELLED.
        r = api.request(
            "POST", "/engine/cancelStockTransaction", token: compToken,
            body: #"{"stock_tx_id":"\#(googleCompStockTxId)"}"#)
        ptAssertSuccess(r, "24 Cancel")
        r = api.request("GET", "/transaction/getStockTransactions", token: compToken)
        ptAssertSuccess(r, "25 Stock transactions")
        ptAssertPaths(r, [("$.data[0].order_status", "CANCELLED")], "25")
        // Beyond the plan: the fill is a COMPLETED LIMIT child with the seller's credit.
        ptAssertPaths(
            r,
            [
                ("$.data[0].quantity", "550"), ("$.data[1].order_status", "IN_PROGRESS"),
                ("$.data[2].parent_stock_tx_id", googleCompStockTxId), ("$.data[2].order_status", "COMPLETED"),
                ("$.data[2].order_type", "LIMIT"), ("$.data[2].is_buy", "false"), ("$.data[2].quantity", "10"),
                ("$.data[2].stock_price", "135"),
            ], "25 (children)")
        let childWallet = r.value("$.data[2].wallet_tx_id")?.stringValue
        let w = api.request("GET", "/transaction/getWalletTransactions", token: compToken)
        ptAssertPaths(w, [("$.data[0].is_debit", "false"), ("$.data[0].amount", "1350")], "company wallet")
        XCTAssertEqual(w.path("$.data[0].wallet_tx_id"), childWallet)
        let p = api.request("GET", "/transaction/getStockPortfolio", token: compToken)
        ptAssertPaths(
            p, [("$.data[0].stock_id", google), ("$.data[0].quantity_owned", "540")],
            "cancel returned the unfilled shares")
        let b = api.request("GET", "/transaction/getWalletBalance", token: compToken)
        ptAssertPaths(b, [("$.data.balance", "1350")], "company proceeds")

        // 26–27: invalid token, invalid payload.
        r = api.request("GET", "/transaction/getStockPortfolio", token: invalidToken)
        XCTAssertEqual(r.status, 401, "26 Invalid token: \(r.body)")
        r = api.request("POST", "/transaction/addMoneyToWallet", token: userToken, body: #"{"amount":-10000}"#)
        ptAssertFailure(r, status: 400, "27 Invalid payload")

        try PTLedger.conservation()
    }
}
