/// Why money or shares crossed the system's edge (`external_flows.kind`).
public enum FlowKind: String, Sendable, CaseIterable {
    case deposit, grant
    case classicAdd = "classic_add"
    case classicBuy = "classic_buy"
    case classicSell = "classic_sell"
    case classicTriggerBuy = "classic_trigger_buy"
    case classicTriggerSell = "classic_trigger_sell"
}

/// One row of `external_flows` (positive = into the system).
public struct LedgerFlow: Sendable {
    public var userId: Int64
    public var kind: FlowKind
    public var cents: Int64
    public var stockId: Int64?
    public var shares: Int64

    public init(userId: Int64, kind: FlowKind, cents: Int64 = 0, stockId: Int64? = nil, shares: Int64 = 0) {
        self.userId = userId
        self.kind = kind
        self.cents = cents
        self.stockId = stockId
        self.shares = shares
    }
}
