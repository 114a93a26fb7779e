import COpenSSL
import CShim

/// OpenSSL-backed primitives: HMAC-SHA256 (JWT), PBKDF2 (passwords), CSPRNG, constant-time compare.
public enum Crypto {
    public static func hmacSHA256(key: [UInt8], data: [UInt8]) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: 32) { out, count in
            key.withUnsafeBufferPointer { k in
                data.withUnsafeBufferPointer { d in
                    cshim_hmac_sha256(k.baseAddress, k.count, d.baseAddress, d.count, out.baseAddress)
                }
            }
            count = 32
        }
    }

    public static func sha256(_ data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        data.withUnsafeBufferPointer { d in _ = SHA256(d.baseAddress, d.count, &out) }
        return out
    }

    /// PBKDF2-HMAC-SHA256 (RFC 8018), via the C helper that keys HMAC once per hash.
    public static func pbkdf2(password: [UInt8], salt: [UInt8], iterations: Int, length: Int = 32) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: length)
        let rc = password.withUnsafeBufferPointer { p in
            salt.withUnsafeBufferPointer { s in
                cshim_pbkdf2_sha256(
                    p.baseAddress, p.count, s.baseAddress, s.count, UInt32(max(1, iterations)), &out, length)
            }
        }
        precondition(rc == 0, "pbkdf2 failed")
        return out
    }

    public static func randomBytes(_ count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        precondition(RAND_bytes(&out, Int32(count)) == 1, "RAND_bytes failed")
        return out
    }

    /// Compares without early exit so timing reveals nothing about where inputs differ.
    public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        if a.isEmpty { return true }
        return CRYPTO_memcmp(a, b, a.count) == 0
    }
}

/// Base64 and base64url without padding games: encode pads for standard, never for url.
public enum Base64 {
    private static let std = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let url = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    public static func encode(_ data: [UInt8]) -> String { encode(data, alphabet: std, pad: true) }
    public static func encodeURL(_ data: [UInt8]) -> String { encode(data, alphabet: url, pad: false) }

    private static func encode(_ data: [UInt8], alphabet: [UInt8], pad: Bool) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((data.count + 2) / 3 * 4)
        var i = 0
        while i + 3 <= data.count {
            let v = UInt32(data[i]) << 16 | UInt32(data[i + 1]) << 8 | UInt32(data[i + 2])
            out.append(alphabet[Int(v >> 18 & 63)])
            out.append(alphabet[Int(v >> 12 & 63)])
            out.append(alphabet[Int(v >> 6 & 63)])
            out.append(alphabet[Int(v & 63)])
            i += 3
        }
        let rest = data.count - i
        if rest > 0 {
            var v = UInt32(data[i]) << 16
            if rest == 2 { v |= UInt32(data[i + 1]) << 8 }
            out.append(alphabet[Int(v >> 18 & 63)])
            out.append(alphabet[Int(v >> 12 & 63)])
            if rest == 2 { out.append(alphabet[Int(v >> 6 & 63)]) }
            if pad { out.append(contentsOf: rest == 2 ? [61] : [61, 61]) }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes base64url (or standard) text; padding optional. Nil on any invalid character.
    public static func decode(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        var acc: UInt32 = 0
        var bits = 0
        for c in text.utf8 {
            let v: UInt32
            switch c {
            case 0x41...0x5a: v = UInt32(c - 0x41)
            case 0x61...0x7a: v = UInt32(c - 0x61 + 26)
            case 0x30...0x39: v = UInt32(c - 0x30 + 52)
            case UInt8(ascii: "-"), UInt8(ascii: "+"): v = 62
            case UInt8(ascii: "_"), UInt8(ascii: "/"): v = 63
            case UInt8(ascii: "="): continue
            default: return nil
            }
            acc = acc << 6 | v
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: acc >> UInt32(bits)))
            }
        }
        return out
    }
}
