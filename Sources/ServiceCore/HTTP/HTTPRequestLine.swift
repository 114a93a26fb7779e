/// The request line, validated byte by byte as it arrives. Anything that cannot become
/// `METHOD SP /target SP HTTP/1.x` (a TLS ClientHello, binary noise, an HTTP/0.9 line) is refused
/// as soon as the first wrong byte is seen, instead of waiting for a blank line that never comes.
struct RequestLine {
    var method: Range<Int>
    var target: Range<Int>
    var versionMinor: Int
    /// Index just past the line's LF.
    var end: Int
}

enum RequestLineScan {
    /// Every byte so far can still begin a valid request line.
    case incomplete
    case invalid(status: Int, message: String)
    case complete(RequestLine)
}

extension HTTPParser {
    /// Longer than any registered method; a longer run of token bytes is noise, not a method.
    static let maxMethodLength = 32
    /// Byte `k` of `HTTP/0.0` (the digits at 5 and 7 match any digit), from a constant: no
    /// array global to initialise and bounds-check per byte.
    @inline(__always)
    private static func versionByte(_ k: Int) -> UInt8 {
        UInt8(truncatingIfNeeded: 0x302e_302f_5054_5448 as UInt64 >> UInt64(8 * k))
    }

    static func scanRequestLine(_ buf: UnsafeBufferPointer<UInt8>) -> RequestLineScan {
        var i = 0
        while i < buf.count && i <= maxMethodLength && isTokenChar(buf[i]) { i += 1 }
        let method = 0..<i
        guard i < buf.count else { return .incomplete }
        guard i > 0 else { return .invalid(status: 400, message: "not an HTTP/1.x request") }
        guard buf[i] == sp else { return .invalid(status: 400, message: "malformed method") }
        i += 1

        let targetStart = i
        while i < buf.count && isTargetByte(buf[i]) { i += 1 }
        guard i < buf.count else { return .incomplete }
        let target = targetStart..<i
        let stop = buf[i]
        if stop != sp && stop != cr && stop != lf {
            return .invalid(status: 400, message: "request target has a control or non-ASCII byte (percent-encode it)")
        }
        guard !target.isEmpty else { return .invalid(status: 400, message: "malformed request line") }
        guard stop == sp else {
            return .invalid(status: 400, message: "HTTP/0.9 request (no HTTP version) is not supported")
        }
        i += 1

        // Exactly `HTTP/` DIGIT `.` DIGIT, then CRLF (or a bare LF).
        let versionStart = i
        for k in 0..<8 {
            guard i < buf.count else { return .incomplete }
            let b = buf[i]
            let ok = k == 5 || k == 7 ? (b >= 0x30 && b <= 0x39) : b == versionByte(k)
            guard ok else {
                return .invalid(
                    status: 400, message: k < 5 ? "malformed request line: expected HTTP/1.x" : "malformed HTTP version"
                )
            }
            i += 1
        }
        guard i < buf.count else { return .incomplete }
        if buf[i] == cr {
            i += 1
            guard i < buf.count else { return .incomplete }
        }
        guard buf[i] == lf else { return .invalid(status: 400, message: "malformed request line") }
        let major = buf[versionStart + 5]
        let minor = buf[versionStart + 7]
        guard major == UInt8(ascii: "1"), minor == UInt8(ascii: "0") || minor == UInt8(ascii: "1") else {
            return .invalid(status: 505, message: "unsupported HTTP version")
        }
        return .complete(RequestLine(method: method, target: target, versionMinor: Int(minor - 0x30), end: i + 1))
    }

    /// Visible ASCII: raw bytes of multi-byte UTF-8 must arrive percent-encoded (RFC 3986).
    @inline(__always)
    static func isTargetByte(_ b: UInt8) -> Bool { b > 0x20 && b < 0x7f }
}
