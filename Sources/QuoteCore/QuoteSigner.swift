import ServiceCore

/// Signs quotes so a checker can tell a real quote from a faked one, as the lab validator did.
/// cryptokey = base64(HMAC-SHA256(secret, "price|SYM|user|timestamp") ‖ timestamp as 8 bytes
/// big-endian): 40 bytes, i.e. 56 base64 characters ending in "==", the legacy key's shape.
struct QuoteSigner: Sendable {
    let secret: [UInt8]

    /// A fixed seed gives a fixed secret (reproducible keys); otherwise a random one per process.
    static func make(seed: UInt64?, explicitSecret: String?) -> QuoteSigner {
        if let s = explicitSecret, !s.isEmpty { return QuoteSigner(secret: Array(s.utf8)) }
        if let seed { return QuoteSigner(secret: Crypto.sha256(Array("daytrade-quote-secret|\(seed)".utf8))) }
        return QuoteSigner(secret: Crypto.randomBytes(32))
    }

    func cryptokey(price: String, symbol: String, user: String, timestamp: Int64) -> String {
        var raw = Crypto.hmacSHA256(key: secret, data: Array("\(price)|\(symbol)|\(user)|\(timestamp)".utf8))
        let ts = UInt64(bitPattern: timestamp)
        for shift in stride(from: 56, through: 0, by: -8) { raw.append(UInt8(truncatingIfNeeded: ts >> UInt64(shift))) }
        return Base64.encode(raw)
    }

    func verify(price: String, symbol: String, user: String, timestamp: Int64, cryptokey: String) -> Bool {
        let expected = Array(self.cryptokey(price: price, symbol: symbol, user: user, timestamp: timestamp).utf8)
        return Crypto.constantTimeEqual(expected, Array(cryptokey.utf8))
    }
}
