import Ledger
import ServiceCore

/// A price from the quote server, as logged in a quoteServer entry.
public struct Quote: Sendable, Equatable {
    public var symbol: String
    /// The user the quote was requested for (the quote server echoes it).
    public var user: String
    public var priceCents: Int64
    /// The quote server's own timestamp (ms); logged, never used for the 60 s rule.
    public var quoteServerTime: Int64
    public var cryptokey: String
    /// Our clock when the reply arrived: the quote serves commands stamped < obtainedAt + 60000.
    public var obtainedAt: Int64

    public init(
        symbol: String, user: String, priceCents: Int64, quoteServerTime: Int64, cryptokey: String, obtainedAt: Int64
    ) {
        self.symbol = symbol
        self.user = user
        self.priceCents = priceCents
        self.quoteServerTime = quoteServerTime
        self.cryptokey = cryptokey
        self.obtainedAt = obtainedAt
    }
}

/// What the quote server answers (before we stamp it with our clock).
public struct QuoteReply: Sendable, Equatable {
    public var priceCents: Int64
    public var symbol: String
    public var user: String
    public var quoteServerTime: Int64
    public var cryptokey: String
    public init(priceCents: Int64, symbol: String, user: String, quoteServerTime: Int64, cryptokey: String) {
        self.priceCents = priceCents
        self.symbol = symbol
        self.user = user
        self.quoteServerTime = quoteServerTime
        self.cryptokey = cryptokey
    }
}

/// Where real quotes come from. Every call is a paid hit, so callers go through `QuoteCache`.
public protocol QuoteSource: Sendable {
    func fetch(symbol: String, user: String) throws -> QuoteReply
}

public struct QuoteSourceError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// The quote-server's HTTP API: `GET /quote?symbol=SYM&user=USER` →
/// `{"price":"12.34","symbol":"SYM","user":"u","timestamp":ms,"cryptokey":"..."}`.
public struct HTTPQuoteSource: QuoteSource {
    public let endpoint: Endpoint
    public let timeoutMillis: Int
    /// Signs with DT_INTERNAL_KEY: the quote-server, like every service, serves only proven callers.
    private let client: HTTPClient

    public init(endpoint: Endpoint, timeoutMillis: Int = 5000, signer: GatewayProof? = nil) {
        self.endpoint = endpoint
        self.timeoutMillis = timeoutMillis
        client = signer.map { HTTPClient(signer: $0) } ?? .shared
    }

    public func fetch(symbol: String, user: String) throws -> QuoteReply {
        let path = "/quote?symbol=\(Self.encode(symbol))&user=\(Self.encode(user))"
        var lastError = "no attempt"
        // One retry: a pooled keep-alive socket may have been closed by the server.
        for _ in 0..<2 {
            do {
                let r = try client.request(endpoint, method: "GET", path: path, timeoutMillis: timeoutMillis)
                guard r.status == 200 else {
                    lastError = "quote server answered \(r.status)"
                    continue
                }
                return try Self.parse(r.body, symbol: symbol, user: user)
            } catch let e as QuoteSourceError {
                lastError = e.message
            } catch {
                lastError = "\(error)"
            }
        }
        throw QuoteSourceError(message: lastError)
    }

    static func parse(_ body: [UInt8], symbol: String, user: String) throws -> QuoteReply {
        guard let j = try? JSON.parse(body) else { throw QuoteSourceError(message: "quote reply is not JSON") }
        let priceText: String?
        switch j["price"] {
        case .string(let s)?: priceText = s
        case .number(let n)?: priceText = n
        default: priceText = nil
        }
        guard let p = priceText.flatMap({ Money.parseCents($0) }), p > 0 else {
            throw QuoteSourceError(message: "quote reply has no valid price")
        }
        let ts: Int64 = j["timestamp"]?.int64Value ?? j["timestamp"]?.stringValue.flatMap { Int64($0) } ?? 0
        let key = (j["cryptokey"]?.stringValue ?? "").trimmingSpaces()
        return QuoteReply(
            priceCents: p, symbol: j["symbol"]?.stringValue ?? symbol, user: j["user"]?.stringValue ?? user,
            quoteServerTime: ts, cryptokey: key)
    }

    static func encode(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            if (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D
                || b == 0x5F || b == 0x2E
            {
                out.unicodeScalars.append(UnicodeScalar(b))
            } else {
                let hex = Array("0123456789ABCDEF".unicodeScalars)
                out.unicodeScalars.append("%")
                out.unicodeScalars.append(hex[Int(b >> 4)])
                out.unicodeScalars.append(hex[Int(b & 15)])
            }
        }
        return out
    }
}
