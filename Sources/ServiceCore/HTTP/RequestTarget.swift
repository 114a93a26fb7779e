/// Checks what a request target means, beyond its raw bytes (visible ASCII, checked while the
/// request line is scanned): percent-escapes are well formed and decode to UTF-8 text without
/// control characters, so no handler (and no log line) ever sees a path that is not text.
enum RequestTarget {
    /// Why the target is refused, or nil when it is fine.
    static func problem(_ target: Slice<UnsafeBufferPointer<UInt8>>) -> String? {
        let percent = UInt8(ascii: "%")
        guard target.contains(percent) else { return nil }
        var decoded: [UInt8] = []
        decoded.reserveCapacity(target.count)
        var i = target.startIndex
        while i < target.endIndex {
            guard target[i] == percent else {
                decoded.append(target[i])
                i += 1
                continue
            }
            guard target.endIndex - i >= 3, let hi = hexValue(target[i + 1]), let lo = hexValue(target[i + 2]) else {
                return "malformed percent-escape in request target"
            }
            decoded.append(hi << 4 | lo)
            i += 3
        }
        if decoded.contains(where: { $0 < 0x20 || $0 == 0x7f }) { return "control character in request target" }
        if String(validating: decoded, as: UTF8.self) == nil { return "request target is not valid UTF-8" }
        return nil
    }

    private static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: return b - 0x30
        case 0x41...0x46: return b - 0x41 + 10
        case 0x61...0x66: return b - 0x61 + 10
        default: return nil
        }
    }
}
