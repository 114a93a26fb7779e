import Glibc

/// An HTTP response built by a handler. The server adds Content-Length, Date and Connection.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// For a HEAD request: the length the GET body would have; no body is sent.
    public internal(set) var headOnlyLength: Int?

    /// A HEAD answer relayed from elsewhere (a proxy): no body, `length` as its Content-Length.
    public func headOnly(length: Int) -> HTTPResponse {
        var r = self
        r.body = []
        r.headOnlyLength = length
        return r
    }
    /// A body too large to hold in memory (e.g. a whole-system DUMPLOG): the event loop streams
    /// the file to the client in bounded chunks instead of `body`.
    public var bodyFile: BodyFile?

    public init(status: Int = 200, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public static func text(_ s: String, status: Int = 200) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "text/plain; charset=utf-8")], body: Array(s.utf8))
    }

    public static func json(_ value: JSON, status: Int = 200) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "application/json")], body: value.serializedBytes())
    }

    /// Platform-style error envelope: `{"success":false,"data":{"error":"..."}}`.
    public static func error(_ status: Int, _ message: String) -> HTTPResponse {
        json(.object([("success", .bool(false)), ("data", .object([("error", .string(message))]))]), status: status)
    }

    /// This answer with `Retry-After: seconds`: one the client may send again after that pause.
    public func retryAfter(_ seconds: Int = 1) -> HTTPResponse {
        var r = self
        r.headers.append(("Retry-After", String(seconds)))
        return r
    }

    /// First value of a header, matching the name in any ASCII case.
    public func header(_ name: String) -> String? {
        for h in headers where asciiCaseInsensitiveEqual(h.name, name) { return h.value }
        return nil
    }

    /// The handler set `Connection: close` (any case): the connection ends after this answer.
    var closesConnection: Bool {
        guard let v = header("connection") else { return false }
        return asciiCaseInsensitiveEqual(v, "close")
    }
}

/// Throw from a handler to answer with a given status and JSON error body.
public struct HTTPError: Error, Sendable {
    public let status: Int
    public let message: String
    public init(_ status: Int, _ message: String) {
        self.status = status
        self.message = message
    }
}

enum StatusText {
    static func reason(_ code: Int) -> String {
        switch code {
        case 100: return "Continue"
        case 200: return "OK"
        case 201: return "Created"
        case 204: return "No Content"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 408: return "Request Timeout"
        case 409: return "Conflict"
        case 411: return "Length Required"
        case 413: return "Payload Too Large"
        case 414: return "URI Too Long"
        case 417: return "Expectation Failed"
        case 429: return "Too Many Requests"
        case 431: return "Request Header Fields Too Large"
        case 500: return "Internal Server Error"
        case 501: return "Not Implemented"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        case 504: return "Gateway Timeout"
        case 505: return "HTTP Version Not Supported"
        default: return "Status"
        }
    }

    /// `HTTP/1.1 <code> <reason>\r\n` for every code 100–599, built once: no formatting per response.
    static let lines: [[UInt8]] = (100..<600).map { Array("HTTP/1.1 \($0) \(reason($0))\r\n".utf8) }

    static func line(_ code: Int) -> [UInt8] {
        (100..<600).contains(code) ? lines[code - 100] : Array("HTTP/1.1 \(code) \(reason(code))\r\n".utf8)
    }
}

/// Fixed pieces of a response head (static strings: no lazily made globals on the hot path).
private enum Wire {
    static let colonSpace: StaticString = ": "
    static let crlf: StaticString = "\r\n"
    static let contentLength: StaticString = "Content-Length: "
    static let chunked: StaticString = "Transfer-Encoding: chunked\r\n"
    static let close: StaticString = "Connection: close\r\n"
}

/// Copies pieces of a response head into a buffer sized for them beforehand.
private struct HeadWriter {
    let buf: UnsafeMutableBufferPointer<UInt8>
    var count = 0

    init(_ buf: UnsafeMutableBufferPointer<UInt8>) { self.buf = buf }

    @inline(__always)
    mutating func put(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let src = bytes.baseAddress, let dst = buf.baseAddress, bytes.count > 0 else { return }
        (dst + count).update(from: src, count: bytes.count)
        count += bytes.count
    }

    mutating func put(_ bytes: [UInt8]) { bytes.withUnsafeBufferPointer { put($0) } }
    mutating func put(_ s: StaticString) { s.withUTF8Buffer { put($0) } }

    mutating func put(_ s: String) {
        if s.utf8.withContiguousStorageIfAvailable({ put($0) }) == nil { put(Array(s.utf8)) }
    }

    /// A length (never negative), in decimal.
    mutating func putDecimal(_ value: Int) {
        guard let dst = buf.baseAddress else { return }
        var v = max(0, value)
        var n = 1
        while v >= 10 {
            n += 1
            v /= 10
        }
        v = max(0, value)
        for i in stride(from: count + n - 1, through: count, by: -1) {
            dst[i] = UInt8(truncatingIfNeeded: 48 + v % 10)
            v /= 10
        }
        count += n
    }
}

/// ASCII case-insensitive equality, without making lower-cased copies.
func asciiCaseInsensitiveEqual(_ a: String, _ b: String) -> Bool {
    guard a.utf8.count == b.utf8.count else { return false }
    for (x, y) in zip(a.utf8, b.utf8) where x != y {
        let lx = x >= 0x41 && x <= 0x5a ? x | 0x20 : x
        let ly = y >= 0x41 && y <= 0x5a ? y | 0x20 : y
        if lx != ly { return false }
    }
    return true
}

extension HTTPResponse {
    /// Appends the wire form (status line, headers, body) to `out`.
    func serialize(into out: inout [UInt8], keepAlive: Bool, date: [UInt8]) {
        serializeHead(
            into: &out, contentLength: headOnlyLength ?? bodyFile?.length ?? body.count, chunked: false,
            keepAlive: keepAlive, date: date)
        if headOnlyLength == nil && bodyFile == nil { out.append(contentsOf: body) }
    }

    /// Appends only the head, for a body streamed after it: `Content-Length` when known, else
    /// `Transfer-Encoding: chunked` (when `chunked`) or neither (the close ends the body).
    func serializeHead(into out: inout [UInt8], contentLength: Int?, chunked: Bool, keepAlive: Bool, date: [UInt8]) {
        // Sized first, then written with plain copies and appended once: one capacity check
        // instead of one per piece (this runs for every response).
        let status = StatusText.line(self.status)
        var size = status.count + date.count + Wire.crlf.utf8CodeUnitCount
        for h in headers { size += h.name.utf8.count + h.value.utf8.count + 4 }
        if contentLength != nil {
            size += Wire.contentLength.utf8CodeUnitCount + 20 + 2
        } else if chunked {
            size += Wire.chunked.utf8CodeUnitCount
        }
        if !keepAlive { size += Wire.close.utf8CodeUnitCount }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: size) { buf in
            var w = HeadWriter(buf)
            w.put(status)
            for h in headers {
                w.put(h.name)
                w.put(Wire.colonSpace)
                w.put(h.value)
                w.put(Wire.crlf)
            }
            if let length = contentLength {
                w.put(Wire.contentLength)
                w.putDecimal(length)
                w.put(Wire.crlf)
            } else if chunked {
                w.put(Wire.chunked)
            }
            w.put(date)
            if !keepAlive { w.put(Wire.close) }
            w.put(Wire.crlf)
            out.append(contentsOf: UnsafeBufferPointer(rebasing: buf[0..<w.count]))
        }
    }

    /// The answer to a HEAD request: the GET response's head, without its body.
    func forHead() -> HTTPResponse {
        var r = self
        r.headOnlyLength = headOnlyLength ?? bodyFile?.length ?? body.count
        r.body = []
        bodyFile?.discard()
        r.bodyFile = nil
        return r
    }

    /// A response whose body is the file at `path` (its whole current length).
    public static func file(
        _ path: String, deleteAfterSend: Bool, status: Int = 200,
        headers: [(name: String, value: String)] = []
    ) throws -> HTTPResponse {
        var st = stat()
        guard stat(path, &st) == 0 else { throw HTTPError(500, "response body file is missing") }
        var r = HTTPResponse(status: status, headers: headers)
        r.bodyFile = BodyFile(path: path, length: Int(st.st_size), deleteAfterSend: deleteAfterSend)
        return r
    }
}

/// A file sent as a response body; temporary ones are deleted once sent (or abandoned).
public struct BodyFile: Sendable {
    public let path: String
    public let length: Int
    public let deleteAfterSend: Bool

    public init(path: String, length: Int, deleteAfterSend: Bool) {
        self.path = path
        self.length = length
        self.deleteAfterSend = deleteAfterSend
    }

    func discard() {
        if deleteAfterSend { unlink(path) }
    }
}

@inline(__always)
func appendDecimal(_ value: Int, to out: inout [UInt8]) {
    if value == 0 {
        out.append(UInt8(ascii: "0"))
        return
    }
    var digits:
        (
            UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
            UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8
        ) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    var v = value
    var n = 0
    withUnsafeMutableBytes(of: &digits) { buf in
        while v > 0 && n < 20 {
            buf[n] = UInt8(ascii: "0") + UInt8(v % 10)
            v /= 10
            n += 1
        }
        while n > 0 {
            n -= 1
            out.append(buf[n])
        }
    }
}
