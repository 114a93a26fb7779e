/// Incremental HTTP/1.1 request-head parser over raw bytes. It never allocates until a whole head is
/// present, so slow clients cost nothing but their buffer.
package struct HTTPLimits: Sendable {
    package var maxHeaderBytes = 16 * 1024
    package var maxBodyBytes = 1024 * 1024

    package init(maxHeaderBytes: Int = 16 * 1024, maxBodyBytes: Int = 1024 * 1024) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxBodyBytes = maxBodyBytes
    }
}

package enum HeadParse {
    /// Not a whole head yet, and nothing wrong so far.
    case incomplete
    /// The input starts with this many CR/LF bytes: blank lines before a request line, which
    /// RFC 9112 §2.2 says to ignore (some clients send CRLF after a body). Drop them and parse on.
    case blank(Int)
    /// Parsed head; `headLength` bytes consumed, body of `bodyLength` bytes follows.
    case head(HTTPRequest, headLength: Int, bodyLength: Int)
    /// Protocol error: answer `status` and close.
    case failure(status: Int, message: String)
}

package enum HTTPParser {
    static let cr = UInt8(ascii: "\r"), lf = UInt8(ascii: "\n"), sp = UInt8(ascii: " ")
    private static let colon = UInt8(ascii: ":"), tab = UInt8(ascii: "\t")

    package static func parseHead(_ buf: UnsafeBufferPointer<UInt8>, limits: HTTPLimits) -> HeadParse {
        var headers: [(name: String, value: String)] = []
        return parseHead(buf, limits: limits, headers: &headers)
    }

    /// As above, with the header list built in `headers`, which the caller keeps between
    /// requests: it is emptied and handed to the request, so once that request is gone the next
    /// one reuses its storage instead of allocating a list (the previous request's headers stay
    /// alive in it until then).
    static func parseHead(
        _ buf: UnsafeBufferPointer<UInt8>, limits: HTTPLimits, headers: inout [(name: String, value: String)]
    ) -> HeadParse {
        var blank = 0
        while blank < buf.count && (buf[blank] == cr || buf[blank] == lf) { blank += 1 }
        if blank > 0 { return .blank(blank) }

        let line: RequestLine
        switch scanRequestLine(UnsafeBufferPointer(rebasing: buf[..<min(buf.count, limits.maxHeaderBytes)])) {
        case .invalid(let status, let message):
            return .failure(status: status, message: message)
        case .incomplete:
            if buf.count >= limits.maxHeaderBytes { return .failure(status: 414, message: "request line too long") }
            return .incomplete
        case .complete(let l):
            line = l
        }
        // The head ends at the first empty line after the request line.
        guard let headEnd = findHeadEnd(buf, from: line.end - 1, limit: limits.maxHeaderBytes + 4) else {
            if let message = headerLinesProblem(buf, from: line.end) { return .failure(status: 400, message: message) }
            if buf.count > limits.maxHeaderBytes {
                return .failure(status: 431, message: "request header block too large")
            }
            return .incomplete
        }
        if headEnd > limits.maxHeaderBytes { return .failure(status: 431, message: "request header block too large") }

        let target = buf[line.target]
        if let message = RequestTarget.problem(target) { return .failure(status: 400, message: message) }
        let method = buf[line.method]
        let asterisk = target.count == 1 && target.first == UInt8(ascii: "*")
        if asterisk ? !Self.matches(method, "OPTIONS") : target.first != UInt8(ascii: "/") {
            return .failure(status: 400, message: "malformed request target")
        }
        var path = target
        var query = target[target.endIndex...]
        if let q = target.firstIndex(of: UInt8(ascii: "?")) {
            path = target[target.startIndex..<q]
            query = target[(q + 1)...]
        }

        // Popped rather than `removeAll(keepingCapacity:)`, whose generic path costs more than
        // the few headers a request has.
        while headers.popLast() != nil {}
        if headers.capacity < 8 { headers.reserveCapacity(8) }
        var lines = LineIterator(buf: buf, start: line.end, end: headEnd)
        while let headerLine = lines.next(), !headerLine.isEmpty {
            if let message = parseHeaderLine(headerLine, into: &headers) {
                return .failure(status: 400, message: message)
            }
        }
        let bodyLength: Int
        do {
            bodyLength = try HeadRules.bodyLength(headers, versionMinor: line.versionMinor, limits: limits)
        } catch {
            return .failure(status: error.status, message: error.message)
        }
        let request = HTTPRequest(
            method: methodString(method),
            path: String(decoding: path, as: UTF8.self),
            query: query.isEmpty ? "" : String(decoding: query, as: UTF8.self),
            headers: headers, body: [], versionMinor: line.versionMinor)
        return .head(request, headLength: headEnd, bodyLength: bodyLength)
    }

    /// `name: value` with a token name, no space before the colon, and no control bytes in the
    /// value (the rules of `headerLineProblem` for a complete line, in one pass: every request runs it),
    /// appended to `headers`; else why not.
    private static func parseHeaderLine(
        _ line: Slice<UnsafeBufferPointer<UInt8>>, into headers: inout [(name: String, value: String)]
    ) -> String? {
        let b = line.base
        let start = line.startIndex
        let end = line.endIndex
        guard start < end else { return "malformed header line" }
        if b[start] == sp || b[start] == tab { return "obsolete header line folding is not supported" }
        var c = start
        var upper = false
        while c < end && b[c] != colon {
            let x = b[c]
            guard isTokenChar(x) else { return "malformed header name" }
            if x >= 0x41 && x <= 0x5a { upper = true }
            c += 1
        }
        guard c < end else { return "malformed header line" }
        guard c > start else { return "malformed header name" }
        var i = c + 1
        while i < end {
            let x = b[i]
            if (x < 0x20 && x != tab) || x == 0x7f { return "control character in header value" }
            i += 1
        }
        var from = c + 1
        var to = end
        while from < to && (b[from] == sp || b[from] == tab) { from += 1 }
        while to > from && (b[to - 1] == sp || b[to - 1] == tab) { to -= 1 }
        let nameBytes = UnsafeBufferPointer(rebasing: b[start..<c])
        let name =
            knownHeaderName(nameBytes)
            ?? (upper
                ? String(unsafeUninitializedCapacity: nameBytes.count) { out in
                    for (k, x) in nameBytes.enumerated() { out[k] = x >= 0x41 && x <= 0x5a ? x + 32 : x }
                    return nameBytes.count
                } : String(decoding: nameBytes, as: UTF8.self))
        headers.append((name, String(decoding: UnsafeBufferPointer(rebasing: b[from..<to]), as: UTF8.self)))
        return nil
    }

    /// The method as a string literal when it is a common one (no decoding, no allocation).
    private static func methodString(_ m: Slice<UnsafeBufferPointer<UInt8>>) -> String {
        switch m.count {
        case 3:
            if matches(m, "GET") { return "GET" }
            if matches(m, "PUT") { return "PUT" }
        case 4:
            if matches(m, "POST") { return "POST" }
            if matches(m, "HEAD") { return "HEAD" }
        case 6:
            if matches(m, "DELETE") { return "DELETE" }
        default:
            break
        }
        return String(decoding: m, as: UTF8.self)
    }

    /// A header name most requests carry, in any ASCII case, as a lower-case literal (shared and
    /// immortal) instead of a new string per request; nil for any other name.
    private static func knownHeaderName(_ n: UnsafeBufferPointer<UInt8>) -> String? {
        switch n.count {
        case 4: if lowerEquals(n, "host") { return "host" }
        case 6:
            if lowerEquals(n, "accept") { return "accept" }
            if lowerEquals(n, "expect") { return "expect" }
        case 10:
            if lowerEquals(n, "connection") { return "connection" }
            if lowerEquals(n, "user-agent") { return "user-agent" }
        case 12: if lowerEquals(n, "content-type") { return "content-type" }
        case 13: if lowerEquals(n, "authorization") { return "authorization" }
        case 14: if lowerEquals(n, "content-length") { return "content-length" }
        case 15:
            if lowerEquals(n, "accept-encoding") { return "accept-encoding" }
            if lowerEquals(n, "idempotency-key") { return "idempotency-key" }
        case 17: if lowerEquals(n, "transfer-encoding") { return "transfer-encoding" }
        default: break
        }
        return nil
    }

    /// Whether `bytes`, lower-cased, are `s` (lower-case ASCII of the same length).
    @inline(__always)
    private static func lowerEquals(_ bytes: UnsafeBufferPointer<UInt8>, _ s: StaticString) -> Bool {
        let p = s.utf8Start
        for i in 0..<bytes.count {
            let x = bytes[i]
            if (x >= 0x41 && x <= 0x5a ? x + 32 : x) != p[i] { return false }
        }
        return true
    }

    /// Whether the bytes are exactly `s` (ASCII).
    @inline(__always)
    private static func matches(_ bytes: Slice<UnsafeBufferPointer<UInt8>>, _ s: StaticString) -> Bool {
        guard bytes.count == s.utf8CodeUnitCount else { return false }
        let p = s.utf8Start
        var k = 0
        for x in bytes {
            if x != p[k] { return false }
            k += 1
        }
        return true
    }

    /// Why a header line is refused, or nil. An incomplete line (still arriving) is only checked
    /// as far as it goes, so noise after a valid request line is refused without waiting.
    private static func headerLineProblem(_ line: Slice<UnsafeBufferPointer<UInt8>>, complete: Bool) -> String? {
        guard let first = line.first else { return nil }
        if first == sp || first == tab { return "obsolete header line folding is not supported" }
        let colonAt = line.firstIndex(of: colon)
        let name = line[line.startIndex..<(colonAt ?? line.endIndex)]
        if let bad = name.firstIndex(where: { !isTokenChar($0) }) {
            // A CR as the last byte received may be the start of the line's CRLF.
            let pendingCR = !complete && colonAt == nil && bad == line.endIndex - 1 && line[bad] == cr
            if !pendingCR { return "malformed header name" }
        }
        guard let c = colonAt else { return complete ? "malformed header line" : nil }
        if c == line.startIndex { return "malformed header name" }
        var value = line[(c + 1)...]
        if !complete, value.last == cr { value = value.dropLast() }
        if value.contains(where: { ($0 < 0x20 && $0 != tab) || $0 == 0x7f }) {
            return "control character in header value"
        }
        return nil
    }

    /// Checks the header lines received so far when the head is not complete yet.
    private static func headerLinesProblem(_ buf: UnsafeBufferPointer<UInt8>, from start: Int) -> String? {
        var lines = LineIterator(buf: buf, start: start, end: buf.count)
        while let (line, complete) = lines.nextWithEnd() {
            if let message = headerLineProblem(line, complete: complete) { return message }
        }
        return nil
    }

    /// Index just past the CRLFCRLF (or LFLF) that ends the head: the first LF at or after `from`
    /// followed by an empty line, scanning at most `limit` bytes.
    private static func findHeadEnd(_ buf: UnsafeBufferPointer<UInt8>, from: Int, limit: Int) -> Int? {
        let n = min(buf.count, limit)
        var i = from
        while i < n {
            if buf[i] == lf {
                if i + 1 < buf.count && buf[i + 1] == lf { return i + 2 }
                if i + 2 < buf.count && buf[i + 1] == cr && buf[i + 2] == lf { return i + 3 }
            }
            i += 1
        }
        return nil
    }

    /// RFC 9110 tchar: letters, digits and ``!#$%&'*+-.^_`|~``, as a bitmap over ASCII (bit b of
    /// the first word for bytes below 64, bit b-64 of the second); constants, so no lazy global.
    static let tokenLow: UInt64 = 0x03ff_6cfa_0000_0000, tokenHigh: UInt64 = 0x57ff_ffff_c7ff_fffe

    @inline(__always)
    static func isTokenChar(_ b: UInt8) -> Bool {
        b < 64 ? tokenLow >> UInt64(b) & 1 != 0 : b < 128 && tokenHigh >> UInt64(b - 64) & 1 != 0
    }
}

/// Splits a head into lines ending in LF (a preceding CR is dropped).
private struct LineIterator {
    let buf: UnsafeBufferPointer<UInt8>
    let end: Int
    var pos: Int
    init(buf: UnsafeBufferPointer<UInt8>, start: Int, end: Int) {
        self.buf = buf
        self.end = end
        self.pos = start
    }

    mutating func next() -> Slice<UnsafeBufferPointer<UInt8>>? { nextWithEnd()?.line }

    /// The next line, and whether its LF has arrived (the last one of a partial head may not have).
    mutating func nextWithEnd() -> (line: Slice<UnsafeBufferPointer<UInt8>>, complete: Bool)? {
        guard pos < end else { return nil }
        var i = pos
        while i < end && buf[i] != UInt8(ascii: "\n") { i += 1 }
        guard i < end else {
            defer { pos = end }
            return (buf[pos..<end], false)
        }
        var lineEnd = i
        if lineEnd > pos && buf[lineEnd - 1] == UInt8(ascii: "\r") { lineEnd -= 1 }
        let line = buf[pos..<lineEnd]
        pos = i + 1
        return (line, true)
    }
}
