/// The head of an HTTP/1.1 response as a client reads it, and how its body is framed. Shared by
/// the blocking `HTTPClient` and event-driven readers (the gateway's proxy).
public struct ResponseHead: Sendable {
    public let status: Int
    /// Header names lower-cased.
    public let headers: [(name: String, value: String)]
    /// Bytes of the head, blank line included.
    public let length: Int
    public let contentLength: Int?
    public let chunked: Bool
    /// The server will close the connection after this response.
    public let closes: Bool

    public enum Parse: Sendable {
        case incomplete
        case head(ResponseHead)
        case invalid(String)
    }

    public enum Framing: Equatable, Sendable {
        case none
        case length(Int)
        case chunked
        /// No length: the body ends when the server closes.
        case untilClose
    }

    /// How the body of this response to a `HEAD` (or other) request is delimited (RFC 9112 §6.3).
    public func framing(forHead head: Bool) -> Framing {
        if head || status == 204 || status == 304 || (100..<200).contains(status) { return .none }
        if chunked { return .chunked }
        if let n = contentLength { return n == 0 ? .none : .length(n) }
        return .untilClose
    }

    public func header(_ name: String) -> String? {
        for h in headers where h.name == name { return h.value }
        return nil
    }

    /// Parses a head at the start of `bytes`; `.invalid` when it is not one or exceeds `maxBytes`.
    /// Works on the bytes (no copy of the head as text): the gateway runs it for every answer.
    public static func parse(_ bytes: UnsafeRawBufferPointer, maxBytes: Int = 64 * 1024) -> Parse {
        guard let end = headEnd(bytes) else {
            return bytes.count > maxBytes ? .invalid("response head too large") : .incomplete
        }
        // Status line: HTTP/1.x SP 3DIGIT [SP reason]
        let http = "HTTP/1.".utf8
        guard end >= 16, zip(bytes[0..<7], http).allSatisfy({ $0 == $1 }), bytes[8] == 32,
            bytes[9...11].allSatisfy({ $0 >= 48 && $0 <= 57 }), bytes[12] == 32 || bytes[12] == 13
        else {
            return .invalid("bad status line")
        }
        let code = Int(bytes[9] - 48) * 100 + Int(bytes[10] - 48) * 10 + Int(bytes[11] - 48)
        guard code >= 100 else { return .invalid("bad status line") }
        var closes = bytes[7] == 48 // HTTP/1.0
        var headers: [(name: String, value: String)] = []
        headers.reserveCapacity(8)
        var contentLength: Int?
        var chunked = false
        var line = lineEnd(bytes, from: 12) + 2
        while line < end - 2 {
            let stop = lineEnd(bytes, from: line)
            defer { line = stop + 2 }
            guard let colon = bytes[line..<stop].firstIndex(of: 58) else { continue }
            let name = lowerCased(UnsafeRawBufferPointer(rebasing: bytes[line..<colon]))
            var from = colon + 1
            var to = stop
            while from < to && (bytes[from] == 32 || bytes[from] == 9) { from += 1 }
            while to > from && (bytes[to - 1] == 32 || bytes[to - 1] == 9) { to -= 1 }
            let value = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[from..<to]), as: UTF8.self)
            switch name {
            case "content-length":
                guard let n = Int(value), n >= 0, contentLength == nil || contentLength == n else {
                    return .invalid("bad content-length")
                }
                contentLength = n
            case "transfer-encoding":
                chunked = value.lowercased().hasSuffix("chunked")
            case "connection":
                let v = value.lowercased()
                if v.contains("close") { closes = true } else if v.contains("keep-alive") { closes = false }
            default:
                break
            }
            headers.append((name, value))
        }
        return .head(
            ResponseHead(
                status: code, headers: headers, length: end, contentLength: chunked ? nil : contentLength,
                chunked: chunked, closes: closes))
    }

    /// Index of the CR of the CRLF ending the line that starts at `from` (the head is known to end in CRLFCRLF).
    private static func lineEnd(_ b: UnsafeRawBufferPointer, from: Int) -> Int {
        var i = from
        while !(b[i] == 13 && b[i + 1] == 10) { i += 1 }
        return i
    }

    private static func lowerCased(_ b: UnsafeRawBufferPointer) -> String {
        String(unsafeUninitializedCapacity: b.count) { out in
            for (i, c) in b.enumerated() { out[i] = c >= 65 && c <= 90 ? c + 32 : c }
            return b.count
        }
    }

    private static func headEnd(_ b: UnsafeRawBufferPointer) -> Int? {
        guard b.count >= 4 else { return nil }
        var i = 0
        while i <= b.count - 4 {
            if b[i + 3] != 10 {
                i += b[i + 3] == 13 ? 1 : 4
                continue
            }
            if b[i] == 13 && b[i + 1] == 10 && b[i + 2] == 13 { return i + 4 }
            i += 1
        }
        return nil
    }
}
