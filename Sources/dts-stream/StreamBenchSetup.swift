import Foundation
import ServiceCore

struct BenchError: Error, CustomStringConvertible { let description: String }

/// The platform calls the benchmark makes before and while it runs, over keep-alive HTTP.
struct PlatformCalls {
    let endpoint: Endpoint
    let client = HTTPClient()

    func call(_ method: String, _ path: String, token: String? = nil, body: String? = nil) throws -> JSON {
        var headers: [(String, String)] = [("Content-Type", "application/json")]
        if let token { headers.append(("token", token)) }
        let r: ClientResponse
        do {
            r = try client.request(
                endpoint, method: method, path: path, headers: headers, body: Array((body ?? "").utf8),
                timeoutMillis: 30_000)
        } catch {
            throw BenchError(description: "\(method) \(path): \(error)")
        }
        let json = (try? JSON.parse(r.body)) ?? .null
        guard r.status == 200, json["success"] == .bool(true) else {
            throw BenchError(
                description:
                    "\(method) \(path): HTTP \(r.status) \(String(decoding: r.body.prefix(300), as: UTF8.self))")
        }
        return json["data"] ?? .null
    }

    /// Registers and logs in a new user; its token.
    func newUser(_ name: String) throws -> String {
        let password = "Bench-stream-" + name
        _ = try call(
            "POST", "/authentication/register",
            body: #"{"user_name":"\#(name)","password":"\#(password)","name":"bench"}"#)
        let data = try call(
            "POST", "/authentication/login", body: #"{"user_name":"\#(name)","password":"\#(password)"}"#)
        guard let token = data["token"]?.stringValue else { throw BenchError(description: "login \(name): no token") }
        return token
    }

    func ticket(_ token: String) throws -> String {
        guard let t = try call("POST", "/engine/streamTicket", token: token)["ticket"]?.stringValue else {
            throw BenchError(description: "streamTicket: no ticket")
        }
        return t
    }

    /// A stock with `shares` resting as one ask at `price`, and a buyer with the cash for all of it.
    func market(prefix: String, shares: Int, price: Int) throws -> (stock: String, buyer: String) {
        let seller = try newUser(prefix + "-seller")
        let buyer = try newUser(prefix + "-buyer")
        guard
            let stock = try call("POST", "/setup/createStock", token: seller, body: #"{"stock_name":"\#(prefix)"}"#)[
                "stock_id"]?.stringValue
        else {
            throw BenchError(description: "createStock: no stock_id")
        }
        _ = try call(
            "POST", "/setup/addStockToUser", token: seller, body: #"{"stock_id":"\#(stock)","quantity":\#(shares)}"#)
        _ = try call(
            "POST", "/engine/placeStockOrder", token: seller,
            body:
                #"{"stock_id":"\#(stock)","is_buy":false,"order_type":"LIMIT","quantity":\#(shares),"price":\#(price)}"#
        )
        _ = try call("POST", "/transaction/addMoneyToWallet", token: buyer, body: #"{"amount":\#(shares * price)}"#)
        return (stock, buyer)
    }

    func marketBuy(_ token: String, _ stock: String) throws {
        _ = try call(
            "POST", "/engine/placeStockOrder", token: token,
            body: #"{"stock_id":"\#(stock)","is_buy":true,"order_type":"MARKET","quantity":1,"price":null}"#)
    }
}

/// p-th percentile (0...100) of sorted values, nearest rank.
func percentile(_ sorted: [Int64], _ p: Double) -> Int64 {
    guard !sorted.isEmpty else { return 0 }
    let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
    return sorted[min(sorted.count - 1, max(0, rank - 1))]
}

func ms(_ micros: Int64) -> String { String(format: "%.1f", Double(micros) / 1000) }
