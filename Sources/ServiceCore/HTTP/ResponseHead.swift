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
    public static func parse(_ bytes: UnsafeRawBufferPointer, maxBytes: Int = 64 * 1024) -> Parse {
        guard let end = headEnd(bytes) else {
            return bytes.count > maxBytes ? .invalid("response head too large") : .incomplete
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[0..<end]), as: UTF8.self)
        var lines = text.split(separator: "\r\n", omittingEmptySubsequences: true)
        guard !lines.isEmpty else { return .invalid("empty head") }
        let statusLine = lines.removeFirst().split(separator: " ", maxSplits: 2)
        guard statusLine.count >= 2, statusLine[0].hasPrefix("HTTP/1."), let code = Int(statusLine[1]), (100...999).contains(code) else {
            return .invalid("bad status line")
        }
        var headers: [(name: String, value: String)] = []
        var contentLength: Int?
        var chunked = false, closes = statusLine[0] == "HTTP/1.0"
        for line in lines {
            guard let c = line.firstIndex(of: ":") else { continue }
            let name = line[..<c].lowercased()
            let value = String(line[line.index(after: c)...].trimmingASCIISpaces())
            switch name {
            case "content-length":
                guard let n = Int(value), n >= 0, contentLength == nil || contentLength == n else { return .invalid("bad content-length") }
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
        return .head(ResponseHead(status: code, headers: headers, length: end, contentLength: chunked ? nil : contentLength,
                                  chunked: chunked, closes: closes))
    }

    private static func headEnd(_ b: UnsafeRawBufferPointer) -> Int? {
        guard b.count >= 4 else { return nil }
        var i = 0
        while i <= b.count - 4 {
            if b[i + 3] != 10 { i += b[i + 3] == 13 ? 1 : 4; continue }
            if b[i] == 13 && b[i + 1] == 10 && b[i + 2] == 13 { return i + 4 }
            i += 1
        }
        return nil
    }
}
