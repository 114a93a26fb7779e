/// HS256 JSON Web Tokens. The algorithm is pinned: a token whose header says anything but HS256
/// (including `none`) is rejected before its signature is even looked at.
public struct JWTClaims: Sendable, Equatable {
    /// The user's numeric id (as text).
    public var subject: String
    /// The user's login name (`user_name`), which the classic commands use as userid.
    public var name: String
    public var role: String
    public var issuedAt: Int64
    public var expiresAt: Int64
    public init(subject: String, name: String, role: String, issuedAt: Int64, expiresAt: Int64) {
        self.subject = subject
        self.name = name
        self.role = role
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
    }
}

public enum JWTError: Error, Sendable, Equatable {
    case malformed, badAlgorithm, badSignature, expired
}

public struct JWT: Sendable {
    private let key: [UInt8]
    private static let header = Base64.encodeURL(Array(#"{"alg":"HS256","typ":"JWT"}"#.utf8))

    public init(secret: String) { key = Array(secret.utf8) }

    public func sign(_ claims: JWTClaims) -> String {
        let payload = JSON.object([
            ("sub", .string(claims.subject)), ("name", .string(claims.name)), ("role", .string(claims.role)),
            ("iat", .int(claims.issuedAt)), ("exp", .int(claims.expiresAt)),
        ])
        let signingInput = JWT.header + "." + Base64.encodeURL(payload.serializedBytes())
        return signingInput + "." + Base64.encodeURL(Crypto.hmacSHA256(key: key, data: Array(signingInput.utf8)))
    }

    /// Verifies signature and expiry (`nowSeconds` since the epoch) and returns the claims.
    public func verify(_ token: String, nowSeconds: Int64) throws(JWTError) -> JWTClaims {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard token.utf8.count < 4096, parts.count == 3 else { throw .malformed }
        guard let headerBytes = Base64.decode(String(parts[0])), let header = try? JSON.parse(headerBytes) else {
            throw .malformed
        }
        guard header["alg"]?.stringValue == "HS256" else { throw .badAlgorithm }
        let signingInput = Array(token.utf8.prefix(parts[0].utf8.count + 1 + parts[1].utf8.count))
        guard let signature = Base64.decode(String(parts[2])) else { throw .malformed }
        guard Crypto.constantTimeEqual(Crypto.hmacSHA256(key: key, data: signingInput), signature) else {
            throw .badSignature
        }
        guard let payloadBytes = Base64.decode(String(parts[1])), let payload = try? JSON.parse(payloadBytes),
            let sub = payload["sub"]?.stringValue, let exp = payload["exp"]?.int64Value
        else { throw .malformed }
        guard nowSeconds < exp else { throw .expired }
        return JWTClaims(
            subject: sub, name: payload["name"]?.stringValue ?? "", role: payload["role"]?.stringValue ?? "user",
            issuedAt: payload["iat"]?.int64Value ?? 0, expiresAt: exp)
    }
}
