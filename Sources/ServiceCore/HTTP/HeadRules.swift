/// Rules on the header set as a whole (RFC 9112 §3.2, §6.1–6.3, RFC 9110 §10.1.1): exactly one
/// Host on HTTP/1.1 (at most one on 1.0), one unambiguous body length, and no expectation the
/// server cannot meet. A request that breaks one cannot be framed or routed safely, so it is
/// answered and the connection closed.
enum HeadRules {
    /// The body length the head declares. One pass over the headers gathers what the rules
    /// need; the rules are then applied in a fixed order (Host, Expect, Content-Length,
    /// Transfer-Encoding), so the answer to a head breaking several does not depend on the
    /// order of its lines.
    static func bodyLength(
        _ headers: [(name: String, value: String)], versionMinor: Int,
        limits: HTTPLimits
    ) throws(HTTPError) -> Int {
        var host: String? = nil
        var hosts = 0
        var expects = false
        var contentLength: Int? = nil
        var lengthProblem: HTTPError? = nil
        var transferEncoding: [Substring]? = nil // present even when empty
        for h in headers {
            switch h.name {
            case "host":
                hosts += 1
                if host == nil { host = h.value }
            case "content-length":
                guard lengthProblem == nil else { break }
                guard !h.value.isEmpty, h.value.utf8.count <= 18, h.value.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                    let n = Int(h.value)
                else {
                    lengthProblem = HTTPError(400, "malformed Content-Length")
                    break
                }
                if let prior = contentLength, prior != n {
                    lengthProblem = HTTPError(400, "conflicting Content-Length headers")
                    break
                }
                contentLength = n
            case "transfer-encoding":
                transferEncoding =
                    (transferEncoding ?? []) + h.value.split(separator: ",").map { $0.trimmingASCIISpaces() }
            case "expect":
                expects = true
            default:
                break
            }
        }
        try checkHost(host, count: hosts, versionMinor: versionMinor)
        if expects { try checkExpect(headers, versionMinor: versionMinor) }
        if let lengthProblem { throw lengthProblem }
        if let transferEncoding {
            // Two framings for one body is the classic request-smuggling set-up: refuse it outright.
            if contentLength != nil { throw HTTPError(400, "both Transfer-Encoding and Content-Length") }
            if versionMinor == 0 { throw HTTPError(400, "Transfer-Encoding in an HTTP/1.0 request") }
            guard transferEncoding.last?.lowercased() == "chunked" else {
                throw HTTPError(501, "unsupported transfer coding")
            }
            throw HTTPError(411, "chunked request bodies are not supported; send Content-Length")
        }
        let length = contentLength ?? 0
        if length > limits.maxBodyBytes { throw HTTPError(413, "request body too large") }
        return length
    }

    private static func checkHost(_ host: String?, count: Int, versionMinor: Int) throws(HTTPError) {
        if count > 1 { throw HTTPError(400, "more than one Host header") }
        guard let host else {
            if versionMinor == 1 { throw HTTPError(400, "HTTP/1.1 request without a Host header") }
            return
        }
        // uri-host [":" port]: reg-name, IPv4 or an IP literal in brackets (RFC 3986 §3.2.2).
        let valid =
            host.utf8.withContiguousStorageIfAvailable { $0.allSatisfy(isHostByte) } ?? host.utf8.allSatisfy(isHostByte)
        guard valid else { throw HTTPError(400, "malformed Host header") }
    }

    private static func checkExpect(_ headers: [(name: String, value: String)], versionMinor: Int) throws(HTTPError) {
        // RFC 9110 §10.1.1: a 100-continue expectation in an HTTP/1.0 request is ignored.
        guard versionMinor == 1 else { return }
        for h in headers where h.name == "expect" {
            for item in h.value.split(separator: ",", omittingEmptySubsequences: false)
            where item.trimmingASCIISpaces().lowercased() != "100-continue" {
                throw HTTPError(417, "unsupported expectation: only 100-continue is understood")
            }
        }
    }

    /// Letters, digits and `-._~%!$&'()*+,;=:[]`, as a bitmap over ASCII like `HTTPParser.tokenLow`.
    static let hostLow: UInt64 = 0x2fff_7ff2_0000_0000, hostHigh: UInt64 = 0x47ff_fffe_afff_fffe

    @inline(__always)
    static func isHostByte(_ b: UInt8) -> Bool {
        b < 64 ? hostLow >> UInt64(b) & 1 != 0 : b < 128 && hostHigh >> UInt64(b - 64) & 1 != 0
    }
}

extension HTTPRequest {
    /// The client waits for `100 Continue` before sending the body (HTTP/1.1 only; HeadRules
    /// has already refused any other expectation).
    var expectsContinue: Bool {
        versionMinor == 1 && header("expect") != nil
    }
}

extension Substring {
    func trimmingASCIISpaces() -> Substring {
        var s = self
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return s
    }
}
