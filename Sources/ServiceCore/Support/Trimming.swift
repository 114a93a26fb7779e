/// Whitespace trimming without Foundation's `CharacterSet` (FoundationEssentials has none; see
/// Threads.swift for why services avoid Foundation).
extension StringProtocol {
    /// Drops leading and trailing spaces, tabs, CR and LF (all headers, env values and libpq
    /// messages here use only these).
    public func trimmingASCIIWhitespace() -> String {
        let bytes = Array(utf8)
        var lo = 0
        var hi = bytes.count
        while lo < hi, Self.isSpace(bytes[lo]) { lo += 1 }
        while hi > lo, Self.isSpace(bytes[hi - 1]) { hi -= 1 }
        return String(decoding: bytes[lo..<hi], as: UTF8.self)
    }

    private static func isSpace(_ b: UInt8) -> Bool {
        b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D || b == 0x0B || b == 0x0C
    }
}
