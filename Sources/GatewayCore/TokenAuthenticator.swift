import ServiceCore

/// The caller's identity, from a verified token.
public struct Identity: Sendable, Equatable {
    public let userId: String
    public let userName: String
    public let role: String
}

/// Verifies the JWT from the `token` header (bare JWT, as the course plans send it) or
/// `Authorization: Bearer`. HS256 is pinned and the signature compared in constant time (ServiceCore's JWT).
public struct TokenAuthenticator: Sendable {
    let jwt: JWT
    let clock: any WallClock

    public init(jwt: JWT, clock: any WallClock) {
        self.jwt = jwt
        self.clock = clock
    }

    public enum Failure: Error, Equatable {
        case missing, invalid, expired
        var message: String {
            switch self {
            case .missing: return "missing token"
            case .invalid: return "invalid token"
            case .expired: return "token expired"
            }
        }
    }

    /// `cache`: this loop's tokens verified before (nil: verify every time).
    public func authenticate(_ request: HTTPRequest, cache: VerifiedTokens? = nil) -> Result<Identity, Failure> {
        guard let token = Self.extract(request) else { return .failure(.missing) }
        let nowSeconds = clock.nowMillis() / 1000
        if let cache, let known = cache.lookup(token) {
            return nowSeconds < known.expiresAt ? .success(known.identity) : .failure(.expired)
        }
        let claims: JWTClaims
        do {
            claims = try jwt.verify(token, nowSeconds: nowSeconds)
        } catch .expired {
            return .failure(.expired)
        } catch {
            return .failure(.invalid)
        }
        // Claims go on as header values: refuse anything that could not be one (we never sign such).
        // A name outside the user-name rule (a look-alike stored before the rule) gets no identity.
        guard !claims.subject.isEmpty, claims.subject.utf8.count <= 19,
            claims.subject.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            UserName.isValid(claims.name)
        else {
            return .failure(.invalid)
        }
        let identity = Identity(
            userId: claims.subject, userName: claims.name, role: claims.role == "admin" ? "admin" : "user")
        cache?.store(token, identity, expiresAt: claims.expiresAt)
        return .success(identity)
    }

    static func extract(_ request: HTTPRequest) -> String? {
        if let t = request.header("token"), !t.isEmpty { return t }
        if let auth = request.header("authorization"), auth.count > 7, auth.lowercased().hasPrefix("bearer ") {
            let t = auth.dropFirst(7).trimmingASCIIWhitespace()
            return t.isEmpty ? nil : t
        }
        return nil
    }
}

/// Tokens one event loop has verified, by their exact text: a client sends the same token with
/// every request, and its verdict (signature, claims, name rule) cannot change, only its expiry,
/// which is checked on every use. Bounded: when full it starts over. Loop-thread only.
public final class VerifiedTokens {
    private var entries: [String: (identity: Identity, expiresAt: Int64)] = [:]
    let capacity: Int

    public init(capacity: Int = 16_384) {
        self.capacity = max(1, capacity)
    }

    func lookup(_ token: String) -> (identity: Identity, expiresAt: Int64)? { entries[token] }

    func store(_ token: String, _ identity: Identity, expiresAt: Int64) {
        if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
        entries[token] = (identity, expiresAt)
    }

    var count: Int { entries.count }
}
