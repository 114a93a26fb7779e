import OrderBook
import ServiceCore

/// Validated payload of amendStockOrder: a new total quantity and/or a new limit price.
public struct AmendOrderRequest: Sendable, Equatable {
    public var stockTxId: Int64
    /// New total quantity of the order, the filled part included (nil = unchanged).
    public var quantity: Int64?
    /// New limit price in cents (nil = unchanged).
    public var priceCents: Int64?
}

extension Requests {
    /// `time_in_force` of a LIMIT order; absent or null is GTC.
    static func timeInForce(_ value: JSON?) throws -> TimeInForce {
        guard let value, !value.isNull else { return .gtc }
        switch value.stringValue {
        case "GTC"?: return .gtc
        case "IOC"?: return .ioc
        case "FOK"?: return .fok
        default: throw bad("time_in_force must be GTC, IOC or FOK")
        }
    }

    public static func amendOrder(_ bytes: [UInt8]) throws -> AmendOrderRequest {
        let json = try body(bytes)
        let stockTxId = try id(json["stock_tx_id"], field: "stock_tx_id")
        let quantity = try present(json["quantity"]).map {
            try positiveInt($0, field: "quantity", max: Limits.maxShares)
        }
        // Whole currency units like placeStockOrder's price.
        let units = try present(json["price"]).map {
            try positiveInt($0, field: "price", max: Limits.maxPriceCents / 100)
        }
        guard quantity != nil || units != nil else { throw bad("give a new quantity, a new price, or both") }
        return AmendOrderRequest(stockTxId: stockTxId, quantity: quantity, priceCents: units.map { $0 * 100 })
    }

    /// A field that is there and not null.
    private static func present(_ value: JSON?) -> JSON? {
        guard let value, !value.isNull else { return nil }
        return value
    }
}
