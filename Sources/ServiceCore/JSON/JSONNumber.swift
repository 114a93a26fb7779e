/// A JSON number read by its value, exactly: `100`, `100.0`, `1e2` and `1.00E+2` are all one
/// hundred. Clients serialise numbers in any of these forms (Python's `json` writes `5.0` for a
/// float), so validation must judge the value, never the spelling.
public enum ExactNumber: Equatable, Sendable {
    /// The number in units of 10^-scale.
    case value(Int64)
    /// Not a whole multiple of 10^-scale (e.g. `1.5` as a whole number, `1.005` in cents).
    case finer
    /// Above Int64 once scaled.
    case outOfRange
    /// Below Int64 once scaled (a huge negative number).
    case belowRange
}

extension JSON {
    /// This number in units of 10^-`scale` (0: whole numbers, 2: cents); nil when not a number.
    public func exact(scale: Int) -> ExactNumber? {
        guard case .number(let text) = self else { return nil }
        return ExactNumber.parse(Array(text.utf8), scale: scale)
    }
}

extension ExactNumber {
    /// `text` is RFC 8259 number syntax (the parser has checked it and bounded its length).
    static func parse(_ text: [UInt8], scale: Int) -> ExactNumber {
        var i = 0
        let negative = i < text.count && text[i] == UInt8(ascii: "-")
        if negative { i += 1 }
        var digits: [UInt8] = [] // significant digits, integer part then fraction
        var fractionDigits = 0
        var inFraction = false
        while i < text.count {
            let b = text[i]
            if b == UInt8(ascii: ".") {
                inFraction = true
            } else if b >= 0x30 && b <= 0x39 {
                if !(digits.isEmpty && b == 0x30) { digits.append(b - 0x30) }
                if inFraction { fractionDigits += 1 }
            } else {
                break
            }
            i += 1
        }
        var exponent = 0
        if i < text.count, text[i] == UInt8(ascii: "e") || text[i] == UInt8(ascii: "E") {
            i += 1
            var expNegative = false
            if i < text.count, text[i] == UInt8(ascii: "+") || text[i] == UInt8(ascii: "-") {
                expNegative = text[i] == UInt8(ascii: "-")
                i += 1
            }
            while i < text.count, text[i] >= 0x30, text[i] <= 0x39 {
                // Saturates: past ±10,000 the answer no longer depends on the exact value.
                exponent = min(exponent * 10 + Int(text[i] - 0x30), 10_000)
                i += 1
            }
            if expNegative { exponent = -exponent }
        }
        guard !digits.isEmpty else { return .value(0) }
        // value = digits × 10^power
        var power = exponent - fractionDigits + scale
        while power < 0, digits.last == 0 {
            digits.removeLast()
            power += 1
        }
        guard power >= 0 else { return .finer }
        let outside: ExactNumber = negative ? .belowRange : .outOfRange
        guard digits.count + power <= 19 else { return outside }
        var v: Int64 = 0
        for d in digits + [UInt8](repeating: 0, count: power) {
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(Int64(d))
            guard !o1, !o2 else { return outside }
            v = s
        }
        return .value(negative ? -v : v)
    }
}
