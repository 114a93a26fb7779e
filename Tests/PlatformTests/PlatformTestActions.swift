import Foundation
import ServiceCore
import XCTest

/// Shorthands for the engine tests: each makes one API call and returns what the test reads.
extension PTClient {
    func createStock(
        _ token: String, _ name: String = PTEnv.unique("S"), file: StaticString = #filePath, line: UInt = #line
    ) throws -> String {
        let r = request("POST", "/setup/createStock", token: token, body: #"{"stock_name":"\#(name)"}"#)
        return try XCTUnwrap(r.value("$.data.stock_id")?.stringValue, "createStock: \(r.body)", file: file, line: line)
    }

    func grant(_ token: String, _ stock: String, _ quantity: Int64, file: StaticString = #filePath, line: UInt = #line)
    {
        let r = request(
            "POST", "/setup/addStockToUser", token: token, body: #"{"stock_id":"\#(stock)","quantity":\#(quantity)}"#)
        ptAssertSuccess(r, "addStockToUser", file: file, line: line)
    }

    func deposit(_ token: String, _ amount: String, file: StaticString = #filePath, line: UInt = #line) {
        let r = request("POST", "/transaction/addMoneyToWallet", token: token, body: #"{"amount":\#(amount)}"#)
        ptAssertSuccess(r, "addMoneyToWallet \(amount)", file: file, line: line)
    }

    func order(_ token: String, _ stock: String, buy: Bool, limit price: Int64?, _ quantity: Int64) -> PTResponse {
        let type = price == nil ? "MARKET" : "LIMIT"
        let priceText = price.map(String.init) ?? "null"
        return request(
            "POST", "/engine/placeStockOrder", token: token,
            body:
                #"{"stock_id":"\#(stock)","is_buy":\#(buy),"order_type":"\#(type)","quantity":\#(quantity),"price":\#(priceText)}"#
        )
    }

    func cancel(_ token: String, _ txId: String) -> PTResponse {
        request("POST", "/engine/cancelStockTransaction", token: token, body: #"{"stock_tx_id":"\#(txId)"}"#)
    }

    func stockTxs(_ token: String) -> [JSON] {
        request("GET", "/transaction/getStockTransactions", token: token).value("$.data")?.arrayValue ?? []
    }

    func walletTxs(_ token: String) -> [JSON] {
        request("GET", "/transaction/getWalletTransactions", token: token).value("$.data")?.arrayValue ?? []
    }

    func balance(_ token: String) -> String? {
        request("GET", "/transaction/getWalletBalance", token: token).path("$.data.balance")
    }

    /// quantity_owned of one stock ("0" when the stock is not listed).
    func owned(_ token: String, _ stock: String) -> String {
        let list = request("GET", "/transaction/getStockPortfolio", token: token).value("$.data")?.arrayValue ?? []
        return list.first { $0["stock_id"]?.stringValue == stock }.map { PTResponse.text($0["quantity_owned"]) } ?? "0"
    }

    func price(_ token: String, _ stock: String) -> String? {
        // With two shards, a peer slower than its 2 s forward timeout is left out of the merged
        // list (documented): ask again before calling the stock unpriced.
        for _ in 0..<3 {
            let list = request("GET", "/transaction/getStockPrices", token: token).value("$.data")?.arrayValue ?? []
            if let p = list.first(where: { $0["stock_id"]?.stringValue == stock }) {
                return PTResponse.text(p["current_price"])
            }
        }
        return nil
    }
}

extension PTResponse {
    /// String form of a value, as JMeter compares it.
    static func text(_ v: JSON?) -> String { v?.assertionText ?? "<missing>" }
}

extension JSON {
    /// `tx["field"]` as JMeter's string form.
    func text(_ key: String) -> String { PTResponse.text(self[key]) }
}
