import ServiceCore

/// Salted PBKDF2-HMAC-SHA256 password hashes (OpenSSL), stored as
/// `pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>` so the cost can be raised later: every hash
/// carries its own iteration count, and a login re-hashes at the current cost when they differ.
struct PasswordHasher: Sendable {
    static let scheme = "pbkdf2-sha256"
    static let saltBytes = 16
    static let hashBytes = 32
    /// About 1.5 ms per hash on the 2-core dev machine (measure with `auth --bench-hash`). Cheap on
    /// purpose: a load run registers and logs in ~750 users/s on 2 cores, i.e. ~1500 hashes/s.
    static let defaultIterations = 4096

    let iterations: Int
    /// Hashes running at once (DT_HASH_THREADS): fewer than the cores, so a sign-up burst leaves
    /// CPU for the rest of the flow. Nil: unbounded (the hash benchmark).
    let slots: ConcurrencyLimit?

    init(iterations: Int, slots: ConcurrencyLimit? = nil) {
        self.iterations = max(1, iterations)
        self.slots = slots
    }

    private func derive(_ password: String, salt: [UInt8], iterations: Int, length: Int) -> [UInt8] {
        let work = { Crypto.pbkdf2(password: Array(password.utf8), salt: salt, iterations: iterations, length: length) }
        return slots.map { $0.run(work) } ?? work()
    }

    func hash(_ password: String) -> String {
        let salt = Crypto.randomBytes(Self.saltBytes)
        let digest = derive(password, salt: salt, iterations: iterations, length: Self.hashBytes)
        return "\(Self.scheme)$\(iterations)$\(Base64.encode(salt))$\(Base64.encode(digest))"
    }

    /// Result of checking a password against a stored hash.
    enum Check {
        case mismatch
        case match(needsRehash: Bool)
    }

    func verify(_ password: String, stored: String) -> Check {
        guard let parsed = Stored(stored) else { return .mismatch }
        let digest = derive(password, salt: parsed.salt, iterations: parsed.iterations, length: parsed.hash.count)
        guard Crypto.constantTimeEqual(digest, parsed.hash) else { return .mismatch }
        return .match(needsRehash: parsed.iterations != iterations)
    }

    /// Burns the same CPU as a real check, so an unknown user name answers as slowly as a wrong password.
    func dummyVerify(_ password: String) {
        _ = derive(password, salt: Self.dummySalt, iterations: iterations, length: Self.hashBytes)
    }
    private static let dummySalt = [UInt8](repeating: 0x5a, count: saltBytes)

    /// A parsed stored hash; nil when the text is not in our format.
    struct Stored {
        let iterations: Int
        let salt: [UInt8]
        let hash: [UInt8]

        init?(_ text: String) {
            let parts = text.split(separator: "$", omittingEmptySubsequences: false)
            guard parts.count == 4, parts[0] == PasswordHasher.scheme, let iter = Int(parts[1]), iter > 0,
                iter <= 10_000_000,
                let salt = Base64.decode(String(parts[2])), !salt.isEmpty,
                let hash = Base64.decode(String(parts[3])), hash.count >= 16
            else { return nil }
            iterations = iter
            self.salt = salt
            self.hash = hash
        }
    }
}
