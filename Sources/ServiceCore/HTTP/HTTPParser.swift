/// Incremental HTTP/1.1 request-head parser over raw bytes. It never allocates until a whole head is
/// present, so slow clients cost nothing but their buffer.
struct HTTPLimits: Sendable {
    var maxHeaderBytes = 16 * 1024
    var maxBodyBytes = 1024 * 1024
}

enum HeadParse {
    /// Not a whole head yet.
    case incomplete
    /// Parsed head; `headLength` bytes consumed, body of `bodyLength` bytes follows.
    case head(HTTPRequest, headLength: Int, bodyLength: Int)
    /// Protocol error: answer `status` and close.
    case failure(status: Int, message: String)
}

enum HTTPParser {
    private static let cr = UInt8(ascii: "\r"), lf = UInt8(ascii: "\n"), sp = UInt8(ascii: " ")
    private static let colon = UInt8(ascii: ":"), tab = UInt8(ascii: "\t")

    static func parseHead(_ buf: UnsafeBufferPointer<UInt8>, limits: HTTPLimits) -> HeadParse {
        // Find the blank line ending the head.
        guard let end = findHeadEnd(buf, limit: limits.maxHeaderBytes + 4) else {
            if buf.count > limits.maxHeaderBytes { return .failure(status: 431, message: "request header block too large") }
            // A request line alone longer than the header budget is reported the same way.
            return .incomplete
        }
        if end.headEnd > limits.maxHeaderBytes { return .failure(status: 431, message: "request header block too large") }
        var lines = LineIterator(buf: buf, end: end.headEnd)
        guard let requestLine = lines.next(), requestLine.count > 0 else {
            return .failure(status: 400, message: "empty request line")
        }
        // METHOD SP TARGET SP HTTP/1.x
        guard let sp1 = requestLine.firstIndex(of: sp) else { return .failure(status: 400, message: "malformed request line") }
        let rest = requestLine[(sp1 + 1)...]
        guard let sp2 = rest.firstIndex(of: sp) else { return .failure(status: 400, message: "malformed request line") }
        let methodBytes = requestLine[requestLine.startIndex..<sp1]
        let target = requestLine[(sp1 + 1)..<sp2]
        let version = requestLine[(sp2 + 1)...]
        guard !methodBytes.isEmpty, methodBytes.allSatisfy(isTokenChar) else {
            return .failure(status: 400, message: "malformed method")
        }
        guard version.count == 8, version.starts(with: "HTTP/1.".utf8) else {
            if version.starts(with: "HTTP/".utf8) && version.count == 8 {
                return .failure(status: 505, message: "unsupported HTTP version")
            }
            return .failure(status: 400, message: "malformed HTTP version")
        }
        let minorByte = version[version.startIndex + 7]
        guard minorByte == UInt8(ascii: "0") || minorByte == UInt8(ascii: "1") else {
            return .failure(status: 505, message: "unsupported HTTP version")
        }
        guard let first = target.first, first == UInt8(ascii: "/") || target.elementsEqual("*".utf8),
              target.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else {
            return .failure(status: 400, message: "malformed request target")
        }
        var path = target[...], query = target[target.endIndex...]
        if let q = target.firstIndex(of: UInt8(ascii: "?")) {
            path = target[target.startIndex..<q]
            query = target[(q + 1)...]
        }

        var headers: [(name: String, value: String)] = []
        headers.reserveCapacity(8)
        var contentLength: Int? = nil
        var chunked = false
        while let line = lines.next() {
            if line.isEmpty { break }
            guard let c = line.firstIndex(of: colon) else { return .failure(status: 400, message: "malformed header line") }
            let nameBytes = line[line.startIndex..<c]
            guard !nameBytes.isEmpty, nameBytes.allSatisfy(isTokenChar) else {
                return .failure(status: 400, message: "malformed header name")
            }
            var v = line[(c + 1)...]
            while let f = v.first, f == sp || f == tab { v = v.dropFirst() }
            while let l = v.last, l == sp || l == tab { v = v.dropLast() }
            guard v.allSatisfy({ $0 >= 0x20 || $0 == tab }), !v.contains(0x7f) else {
                return .failure(status: 400, message: "control character in header value")
            }
            let name = lowercasedASCII(nameBytes)
            let value = String(decoding: v, as: UTF8.self)
            if name == "content-length" {
                guard !v.isEmpty, v.count <= 18, v.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let n = Int(value) else {
                    return .failure(status: 400, message: "malformed Content-Length")
                }
                if let prior = contentLength, prior != n { return .failure(status: 400, message: "conflicting Content-Length") }
                contentLength = n
            } else if name == "transfer-encoding" {
                chunked = true
            }
            headers.append((name, value))
        }
        if chunked {
            // Bodies must carry Content-Length: answering 411 keeps request smuggling impossible.
            return .failure(status: 411, message: "chunked request bodies are not supported; send Content-Length")
        }
        let bodyLength = contentLength ?? 0
        if bodyLength > limits.maxBodyBytes { return .failure(status: 413, message: "request body too large") }
        let request = HTTPRequest(method: String(decoding: methodBytes, as: UTF8.self),
                                  path: String(decoding: path, as: UTF8.self),
                                  query: String(decoding: query, as: UTF8.self),
                                  headers: headers, body: [],
                                  versionMinor: minorByte == UInt8(ascii: "1") ? 1 : 0)
        return .head(request, headLength: end.headEnd, bodyLength: bodyLength)
    }

    /// Index just past the CRLFCRLF (or LFLF) that ends the head, scanning at most `limit` bytes.
    private static func findHeadEnd(_ buf: UnsafeBufferPointer<UInt8>, limit: Int) -> (headEnd: Int, Void)? {
        let n = min(buf.count, limit)
        var i = 0
        while i < n {
            if buf[i] == lf {
                if i + 1 < buf.count && buf[i + 1] == lf { return (i + 2, ()) }
                if i + 2 < buf.count && buf[i + 1] == cr && buf[i + 2] == lf { return (i + 3, ()) }
            }
            i += 1
        }
        return nil
    }

    @inline(__always)
    static func isTokenChar(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
             UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
             UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    private static func lowercasedASCII(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> String {
        // Common names are already lower-case from most clients; only copy when needed.
        if !bytes.contains(where: { $0 >= 0x41 && $0 <= 0x5a }) { return String(decoding: bytes, as: UTF8.self) }
        return String(decoding: bytes.map { ($0 >= 0x41 && $0 <= 0x5a) ? $0 + 32 : $0 }, as: UTF8.self)
    }
}

/// Splits a head into lines ending in LF (a preceding CR is dropped).
private struct LineIterator {
    let buf: UnsafeBufferPointer<UInt8>
    let end: Int
    var pos = 0
    init(buf: UnsafeBufferPointer<UInt8>, end: Int) {
        self.buf = buf
        self.end = end
    }
    mutating func next() -> Slice<UnsafeBufferPointer<UInt8>>? {
        guard pos < end else { return nil }
        var i = pos
        while i < end && buf[i] != UInt8(ascii: "\n") { i += 1 }
        var lineEnd = i
        if lineEnd > pos && buf[lineEnd - 1] == UInt8(ascii: "\r") { lineEnd -= 1 }
        let line = buf[pos..<lineEnd]
        pos = i + 1
        return line
    }
}
