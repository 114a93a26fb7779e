import ServiceCore

/// A short-lived ticket that lets a browser's EventSource (which cannot send the `token` header)
/// open the event stream: issued to an authenticated caller by `POST /engine/streamTicket`, it
/// names the user and an expiry, signed with DT_INTERNAL_KEY (HMAC-SHA256, compared in constant
/// time): the engine issues it, the market-stream service checks it. It grants reading that user's events, nothing else.
public struct StreamTicket: Sendable {
    public static let lifetimeSeconds: Int64 = 60
    let key: [UInt8]

    public init(key: [UInt8]) { self.key = key }

    public func issue(userId: Int64, nowMillis: Int64) -> String {
        let claims = "\(userId).\(nowMillis + Self.lifetimeSeconds * 1000).\(Base64.encodeURL(Crypto.randomBytes(9)))"
        return claims + "."
            + Base64.encodeURL(Crypto.hmacSHA256(key: key, data: Array(("stream-ticket:" + claims).utf8)))
    }

    /// The user the ticket was issued to, or nil (malformed, forged or expired).
    public func verify(_ ticket: String, nowMillis: Int64) -> Int64? {
        guard ticket.utf8.count <= 256 else { return nil }
        let parts = ticket.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, let user = Int64(parts[0]), user > 0, let expires = Int64(parts[1]),
            let given = Base64.decode(String(parts[3]))
        else { return nil }
        let claims = parts[0...2].joined(separator: ".")
        let expected = Crypto.hmacSHA256(key: key, data: Array(("stream-ticket:" + claims).utf8))
        guard Crypto.constantTimeEqual(expected, given), nowMillis <= expires else { return nil }
        return user
    }
}
