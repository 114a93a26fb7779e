/// The side of a classic pending order or trigger, stored as 'B' / 'S' (`CHAR(1)` columns).
public enum Side: String, Sendable, CaseIterable {
    case buy = "B"
    case sell = "S"

    public var isBuy: Bool { self == .buy }
}
