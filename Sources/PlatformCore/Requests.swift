import OrderBook
import ServiceCore

/// Validated request payloads of the platform endpoints. Every check here answers 400 with a
/// sentence; nothing downstream sees an out-of-range value.
public struct PlaceOrderRequest: Sendable, Equatable {
    public var stockId: Int64
    public var isBuy: Bool
    public var type: OrderType
    public var quantity: Int64
    /// Limit price in cents (nil for market orders).
    public var priceCents: Int64?
    /// LIMIT orders only (market orders are always fill-or-kill).
    public var timeInForce: TimeInForce = .gtc
}

public enum Requests {
    static func bad(_ message: String) -> HTTPError { HTTPError(400, message) }

    static func body(_ bytes: [UInt8]) throws -> JSON {
        guard !bytes.isEmpty else { throw bad("request body must be a JSON object") }
        let json: JSON
        do { json = try JSON.parse(bytes) } catch { throw bad("malformed JSON: \(error.description)") }
        guard case .object = json else { throw bad("request body must be a JSON object") }
        return json
    }

    /// Ids travel as strings (the plans quote them); a JSON integer is accepted too.
    static func id(_ value: JSON?, field: String) throws -> Int64 {
        switch value {
        case .string(let s)?:
            guard !s.isEmpty, s.utf8.count <= 19, s.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                let v = Int64(s), v > 0
            else { throw bad("\(field) is not a valid id") }
            return v
        case .number?:
            guard let v = value?.int64Value, v > 0 else { throw bad("\(field) is not a valid id") }
            return v
        case nil: throw bad("\(field) is required")
        default: throw bad("\(field) is not a valid id")
        }
    }

    static func positiveInt(_ value: JSON?, field: String, max: Int64) throws -> Int64 {
        guard let value, !value.isNull else { throw bad("\(field) is required") }
        let v: Int64
        switch value.exact(scale: 0) {
        case .value(let n)?: v = n
        case .outOfRange?: throw bad("\(field) is too large (at most \(max))")
        case .belowRange?: throw bad("\(field) must be greater than 0")
        case .finer?, nil: throw bad("\(field) must be a whole number")
        }
        guard v > 0 else { throw bad("\(field) must be greater than 0") }
        guard v <= max else { throw bad("\(field) is too large (at most \(max))") }
        return v
    }

    public static func createStock(_ bytes: [UInt8]) throws -> String {
        let json = try body(bytes)
        guard let name = json["stock_name"]?.stringValue else { throw bad("stock_name must be a string") }
        guard !name.isEmpty, name.utf8.count <= Limits.maxStockNameBytes else {
            throw bad("stock_name must be 1 to \(Limits.maxStockNameBytes) bytes")
        }
        guard !name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) else {
            throw bad("stock_name contains control characters")
        }
        // " Google" would list beside "Google" as another stock that reads the same.
        guard let first = name.unicodeScalars.first, let last = name.unicodeScalars.last,
            !first.properties.isWhitespace, !last.properties.isWhitespace
        else { throw bad("stock_name must not begin or end with white space") }
        return name
    }

    public static func addStockToUser(_ bytes: [UInt8]) throws -> (stockId: Int64, quantity: Int64) {
        let json = try body(bytes)
        return (
            try id(json["stock_id"], field: "stock_id"),
            try positiveInt(json["quantity"], field: "quantity", max: Limits.maxShares)
        )
    }

    /// Deposit in cents: a JSON number whose value has at most two decimals, > 0, ≤ the bound.
    public static func addMoney(_ bytes: [UInt8]) throws -> Int64 {
        let json = try body(bytes)
        let cents: Int64
        switch json["amount"]?.exact(scale: 2) {
        case .value(let c)?: cents = c
        case .finer?: throw bad("amount must have at most two decimals")
        case .outOfRange?: throw bad("amount is too large")
        case .belowRange?: throw bad("amount must be greater than 0")
        case nil: throw bad("amount must be a number")
        }
        guard cents > 0 else { throw bad("amount must be greater than 0") }
        guard cents <= Limits.maxCents else { throw bad("amount is too large") }
        return cents
    }

    public static func placeOrder(_ bytes: [UInt8]) throws -> PlaceOrderRequest {
        let json = try body(bytes)
        let stockId = try id(json["stock_id"], field: "stock_id")
        guard let isBuy = json["is_buy"]?.boolValue else { throw bad("is_buy must be true or false") }
        guard let typeText = json["order_type"]?.stringValue, let type = OrderType(rawValue: typeText) else {
            throw bad("order_type must be MARKET or LIMIT")
        }
        let quantity = try positiveInt(json["quantity"], field: "quantity", max: Limits.maxShares)
        let price = json["price"]
        switch type {
        case .market:
            // Absent or null (both plans); a price on a market order is a client mistake.
            guard price == nil || price == .null else { throw bad("a MARKET order takes no price") }
            guard json["time_in_force"] == nil || json["time_in_force"] == .null else {
                throw bad("time_in_force applies to LIMIT orders (a MARKET order is fill-or-kill)")
            }
            return PlaceOrderRequest(stockId: stockId, isBuy: isBuy, type: .market, quantity: quantity, priceCents: nil)
        case .limit:
            let units = try positiveInt(price, field: "price", max: Limits.maxPriceCents / 100)
            let cents = units * 100
            let (notional, overflow) = quantity.multipliedReportingOverflow(by: cents)
            guard !overflow, notional <= Limits.maxCents else { throw bad("quantity × price is too large") }
            return PlaceOrderRequest(
                stockId: stockId, isBuy: isBuy, type: .limit, quantity: quantity, priceCents: cents,
                timeInForce: try timeInForce(json["time_in_force"]))
        }
    }

    public static func cancel(_ bytes: [UInt8]) throws -> Int64 {
        try id(body(bytes)["stock_tx_id"], field: "stock_tx_id")
    }
}
