/// Per-request proof that a request to a service port comes from a holder of DT_INTERNAL_KEY (the
/// gateway, or a service calling another): services trust `x-user-*` only when it is valid.
///
/// Header: `x-gateway-proof: <unix ms>.<hex HMAC-SHA256(key, message)>`, where message is
/// `method \n target \n x-user-id \n x-user-name \n x-user-role \n x-request-id \n <unix ms>`
/// (absent headers count as empty; target is the path plus `?query` when there is a query).
/// The timestamp bounds replay to `maxSkewMillis` either way.
public struct GatewayProof: Sendable {
    public static let header = "x-gateway-proof"
    /// The request headers the proof covers, in message order.
    /// (`x-real-ip`: the client's address, which the login throttle keys on.)
    public static let signedHeaders = ["x-user-id", "x-user-name", "x-user-role", "x-request-id", "x-real-ip"]
    public static let maxSkewMillis: Int64 = 60_000

    private let key: [UInt8]

    /// Nil for an empty key: no proof is better than one anybody can make.
    public init?(key: String) {
        guard !key.isEmpty else { return nil }
        self.key = Array(key.utf8)
    }

    /// The key in environment variable `name` (tools and tests that call services directly).
    public static func fromEnvironment(
        _ name: String, _ environment: [String: String] = ProcessEnvironment.variables
    ) -> GatewayProof? {
        GatewayProof(key: environment[name] ?? "")
    }

    /// The proof header value for a request with these headers (names matched case-insensitively).
    public func sign(method: String, target: String, headers: [(String, String)], atMillis: Int64 = Clock.wallMillis())
        -> String
    {
        let values = Self.signedHeaders.map { name in headers.first { Self.sameName($0.0, name) }?.1 ?? "" }
        return sign(method: method, target: target, signedValues: values, atMillis: atMillis)
    }

    /// The proof header value when the signed header values are known (in `signedHeaders` order;
    /// "" for an absent one): the gateway's path, without looking them up in a header list.
    public func sign(method: String, target: String, signedValues: [String], atMillis: Int64 = Clock.wallMillis())
        -> String
    {
        String(atMillis) + "." + Self.hex(mac(method: method, target: target, values: signedValues, millis: atMillis))
    }

    /// `headers` plus the proof header.
    public func signed(method: String, target: String, headers: [(String, String)]) -> [(String, String)] {
        headers.filter { !Self.sameName($0.0, Self.header) } + [
            (Self.header, sign(method: method, target: target, headers: headers))
        ]
    }

    /// `name` equals the lower-case `lower`, ignoring ASCII case (without making a lower-cased copy:
    /// this runs for every header of every request the gateway signs).
    static func sameName(_ name: String, _ lower: String) -> Bool {
        guard name.utf8.count == lower.utf8.count else { return false }
        return zip(name.utf8, lower.utf8).allSatisfy { a, b in a == b || (a >= 65 && a <= 90 && a + 32 == b) }
    }

    public enum Verdict: Equatable, Sendable {
        case valid
        case missing, malformed, stale, mismatch
        case duplicateHeader(String)

        /// Why the request is refused, for the 401 body (never reveals the expected value).
        public var reason: String {
            switch self {
            case .valid: return "valid"
            case .missing:
                return "missing \(GatewayProof.header): this route serves only the gateway and other services"
            case .malformed: return "malformed \(GatewayProof.header)"
            case .stale: return "stale \(GatewayProof.header) (clock skew over \(GatewayProof.maxSkewMillis / 1000) s)"
            case .mismatch: return "invalid \(GatewayProof.header)"
            case .duplicateHeader(let name): return "repeated \(name) header"
            }
        }
    }

    /// Checks a received request (header names are lower-case after parsing).
    public func verify(_ request: HTTPRequest, nowMillis: Int64 = Clock.wallMillis()) -> Verdict {
        var proofValue: String?
        var values = [String](repeating: "", count: Self.signedHeaders.count)
        var seen = [Bool](repeating: false, count: Self.signedHeaders.count)
        for h in request.headers {
            if h.name == Self.header {
                if proofValue != nil { return .duplicateHeader(Self.header) }
                proofValue = h.value
            } else if let i = Self.signedHeaders.firstIndex(of: h.name) {
                // A second copy would let a handler read a value the proof did not cover.
                if seen[i] { return .duplicateHeader(h.name) }
                seen[i] = true
                values[i] = h.value
            }
        }
        guard let proof = proofValue else { return .missing }
        guard let dot = proof.firstIndex(of: "."), let millis = Int64(proof[..<dot]),
            let given = Self.unhex(proof[proof.index(after: dot)...]), given.count == 32
        else { return .malformed }
        guard abs(nowMillis - millis) <= Self.maxSkewMillis else { return .stale }
        let target = request.query.isEmpty ? request.path : request.path + "?" + request.query
        let expected = mac(method: request.method, target: target, values: values, millis: millis)
        return Crypto.constantTimeEqual(expected, given) ? .valid : .mismatch
    }

    private func mac(method: String, target: String, values: [String], millis: Int64) -> [UInt8] {
        // method \n target \n values… \n millis, as bytes in one buffer (signed for every forwarded request).
        var message: [UInt8] = []
        message.reserveCapacity(method.utf8.count + target.utf8.count + values.reduce(0) { $0 + $1.utf8.count } + 32)
        message.append(contentsOf: method.utf8)
        message.append(10)
        message.append(contentsOf: target.utf8)
        for v in values {
            message.append(10)
            message.append(contentsOf: v.utf8)
        }
        message.append(10)
        message.append(contentsOf: String(millis).utf8)
        return Crypto.hmacSHA256(key: key, data: message)
    }

    private static let digits = Array("0123456789abcdef".utf8)

    static func hex(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func unhex(_ text: Substring) -> [UInt8]? {
        let utf8 = text.utf8
        guard utf8.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: return c - 0x30
            case 0x61...0x66: return c - 0x61 + 10
            case 0x41...0x46: return c - 0x41 + 10
            default: return nil
            }
        }
        // Straight from the string's bytes (every service request carries one of these).
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count / 2)
        var high: UInt8? = nil
        for c in utf8 {
            guard let n = nibble(c) else { return nil }
            if let h = high {
                out.append(h << 4 | n)
                high = nil
            } else {
                high = n
            }
        }
        return out
    }
}
