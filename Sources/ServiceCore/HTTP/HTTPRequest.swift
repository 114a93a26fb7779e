/// A parsed HTTP/1.1 request. Header names are lower-cased at parse time so lookups are cheap.
public struct HTTPRequest: Sendable {
    public var method: String
    /// Path without the query string, e.g. `/transaction/getWalletBalance`.
    public var path: String
    /// Raw query string after `?`, empty when absent.
    public var query: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// Minor HTTP version (0 or 1): decides the keep-alive default.
    public var versionMinor: Int
    /// Peer address as seen by the socket (nginx's address when proxied).
    public var remoteAddress: String

    public init(
        method: String, path: String, query: String = "", headers: [(name: String, value: String)] = [],
        body: [UInt8] = [], versionMinor: Int = 1, remoteAddress: String = ""
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.versionMinor = versionMinor
        self.remoteAddress = remoteAddress
    }

    /// First value of a header, by lower-case name.
    public func header(_ name: String) -> String? {
        for h in headers where h.name == name { return h.value }
        return nil
    }

    /// Value of a query parameter (no percent-decoding beyond `+` and `%XX`).
    public func queryParam(_ name: String) -> String? {
        for part in query.split(separator: "&") {
            let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if kv.first.map(String.init) == name { return kv.count > 1 ? percentDecode(String(kv[1])) : "" }
        }
        return nil
    }

    /// Whether the client asked to keep the connection open after this request.
    public var wantsKeepAlive: Bool {
        // Connection is a list of options (`keep-alive, Upgrade`), possibly over several headers.
        var close = false
        var keepAlive = false
        for h in headers where h.name == "connection" {
            for option in h.value.lowercased().split(separator: ",") {
                switch option.trimmingASCIISpaces() {
                case "close": close = true
                case "keep-alive": keepAlive = true
                default: break
                }
            }
        }
        return !close && (versionMinor == 1 || keepAlive)
    }
}

func percentDecode(_ s: String) -> String {
    var out: [UInt8] = []
    var bytes = Array(s.utf8)[...]
    while let b = bytes.popFirst() {
        if b == UInt8(ascii: "+") {
            out.append(0x20)
            continue
        }
        if b == UInt8(ascii: "%"), bytes.count >= 2,
            let v = UInt8(String(decoding: bytes.prefix(2), as: UTF8.self), radix: 16)
        {
            out.append(v)
            bytes = bytes.dropFirst(2)
            continue
        }
        out.append(b)
    }
    return String(decoding: out, as: UTF8.self)
}
