/// Money is integer cents everywhere. These helpers parse and print decimal dollar text exactly.
public enum Money {
    /// Parses `123`, `123.4`, `123.45` (optionally `-`) into cents. Nil for more than two decimals,
    /// exponents, stray characters or values that do not fit in Int64.
    public static func parseCents(_ text: String) -> Int64? {
        var bytes = Substring(text).utf8[...]
        var negative = false
        if bytes.first == UInt8(ascii: "-") {
            negative = true
            bytes = bytes.dropFirst()
        }
        guard !bytes.isEmpty, bytes.count <= 24 else { return nil }
        var whole: Int64 = 0
        var frac: Int64 = 0
        var fracDigits = 0
        var seenDot = false
        var wholeDigits = 0
        for b in bytes {
            if b == UInt8(ascii: ".") {
                guard !seenDot else { return nil }
                seenDot = true
                continue
            }
            guard b >= 0x30 && b <= 0x39 else { return nil }
            let d = Int64(b - 0x30)
            if seenDot {
                fracDigits += 1
                guard fracDigits <= 2 else { return nil }
                frac = frac * 10 + d
            } else {
                wholeDigits += 1
                let (m, o1) = whole.multipliedReportingOverflow(by: 10)
                let (s, o2) = m.addingReportingOverflow(d)
                guard !o1 && !o2 else { return nil }
                whole = s
            }
        }
        guard wholeDigits > 0, !seenDot || fracDigits > 0 else { return nil }
        if fracDigits == 1 { frac *= 10 }
        let (c, o1) = whole.multipliedReportingOverflow(by: 100)
        let (cents, o2) = c.addingReportingOverflow(frac)
        guard !o1 && !o2 else { return nil }
        return negative ? -cents : cents
    }

    /// `12345` → `"123.45"` (always two decimals; for logs and the classic API).
    public static func format(_ cents: Int64) -> String {
        let negative = cents < 0
        let mag = cents.magnitude
        let frac = mag % 100
        return "\(negative ? "-" : "")\(mag / 100).\(frac < 10 ? "0" : "")\(frac)"
    }

    /// Platform API rendering: an integer JSON number when whole, else two decimals.
    public static func json(_ cents: Int64) -> JSON {
        cents % 100 == 0 ? .int(cents / 100) : .number(format(cents))
    }
}
