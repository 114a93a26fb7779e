import Ledger

/// Bounds on every quantity, price and amount the platform accepts (spec: "int64 with room for
/// quantity × price"). Each single value stays ≤ 1e17, so sums of a few of them, and the
/// arithmetic of a fill, stay far inside Int64 (9.2e18); anything larger is a 400, never a wrap.
public enum Limits {
    /// Shares in one order, one grant, or one holding after a grant.
    public static let maxShares: Int64 = LedgerBounds.maxHoldingShares // 1e15
    /// Cents of one deposit, one order's notional, or one balance after a deposit.
    public static let maxCents: Int64 = LedgerBounds.maxBalanceCents // 1e17 (1e15 currency units)
    /// A limit price in cents (prices are whole currency units in the API).
    public static let maxPriceCents: Int64 = 1_000_000_000_000_000 // 1e15 (1e13 units)
    /// Longest stock name.
    public static let maxStockNameBytes = 100
}
