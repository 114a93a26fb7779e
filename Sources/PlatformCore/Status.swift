/// `order_status` values (spec §1.3; the partial spelling is DayTrade's documented choice).
public enum OrderStatus: String, Sendable {
    case inProgress = "IN_PROGRESS"
    case partiallyComplete = "PARTIALLY_COMPLETE"
    case completed = "COMPLETED"
    case cancelled = "CANCELLED"

    /// Status of a parent order from its fill state.
    static func of(quantity: Int64, remaining: Int64) -> OrderStatus {
        remaining == 0 ? .completed : (remaining == quantity ? .inProgress : .partiallyComplete)
    }
}

public enum OrderType: String, Sendable {
    case market = "MARKET"
    case limit = "LIMIT"
}
