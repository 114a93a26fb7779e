extension JSON {
    /// The value at a JMeter-style JSONPath of dotted keys and indexes (`$.data[0].stock_id`),
    /// the subset the course's test plans use; nil when any step is missing.
    public func at(_ path: String) -> JSON? {
        guard path.hasPrefix("$") else { return nil }
        var current = self
        var rest = Substring(path.dropFirst())
        while !rest.isEmpty {
            if rest.hasPrefix(".") {
                rest = rest.dropFirst()
                let key = rest.prefix { $0 != "." && $0 != "[" }
                rest = rest.dropFirst(key.count)
                guard let next = current[String(key)] else { return nil }
                current = next
            } else if rest.hasPrefix("["), let close = rest.firstIndex(of: "]"),
                let i = Int(rest[rest.index(after: rest.startIndex)..<close])
            {
                rest = rest[rest.index(after: close)...]
                guard let next = current[i] else { return nil }
                current = next
            } else {
                return nil
            }
        }
        return current
    }

    /// The string form a JMeter JSONPath assertion compares: strings as they are, numbers as
    /// written, true/false, null, and arrays/objects as JSON text.
    public var assertionText: String {
        switch self {
        case .string(let s): return s
        case .number(let n): return n
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        default: return serialized()
        }
    }
}
