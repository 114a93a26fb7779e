/// A JSON value. Numbers keep their source text so integers of any size and decimal money parse
/// exactly (no trip through Double); objects keep key order so responses read as specified.
public enum JSON: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([JSON])
    case object([(String, JSON)])

    public static func int<T: BinaryInteger>(_ v: T) -> JSON { .number(String(v)) }

    public static func == (a: JSON, b: JSON) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.number(let x), .number(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.array(let x), .array(let y)): return x == y
        case (.object(let x), .object(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    public subscript(key: String) -> JSON? {
        guard case .object(let pairs) = self else { return nil }
        for (k, v) in pairs where k == key { return v }
        return nil
    }

    public subscript(index: Int) -> JSON? {
        guard case .array(let items) = self, index >= 0, index < items.count else { return nil }
        return items[index]
    }

    public var isNull: Bool { if case .null = self { return true } else { return false } }

    public var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }

    public var boolValue: Bool? { if case .bool(let b) = self { return b } else { return nil } }

    public var arrayValue: [JSON]? { if case .array(let a) = self { return a } else { return nil } }

    /// Exact integer value (`5`, `5.0`, `5e0` alike): nil for fractions or values outside Int64.
    public var int64Value: Int64? {
        if case .value(let v)? = exact(scale: 0) { return v }
        return nil
    }

    /// A decimal amount as integer hundredths (cents), by value (`10.5`, `10.50`, `1.05e1`):
    /// nil for a finer fraction or when it would not fit in Int64.
    public var centsValue: Int64? {
        if case .value(let v)? = exact(scale: 2) { return v }
        return nil
    }
}
