import ServiceCore

/// The /authentication/* routes. Passwords are hashed on worker threads (CPU-bound); the login
/// fast path is one indexed SELECT plus one hash.
struct AuthHandlers: Sendable {
    let hasher: PasswordHasher
    let jwt: JWT
    let tokenTTLSeconds: Int64
    let logger: Logger
    let throttle = LoginThrottle()

    /// Hashing routes run on workers (CPU-bound, bounded by the hasher's slots); whoami is cheap.
    func install(on router: Router) {
        router.post("/authentication/register", mode: .blocking) { try register($0, $1) }
        router.post("/authentication/login", mode: .blocking) { try login($0, $1) }
        router.get("/authentication/whoami", mode: .inline) { try whoami($0, $1) }
    }

    /// Same answer for an unknown user and a wrong password: the client learns nothing about which.
    static let badCredentials = "invalid user name or password"

    func register(_ request: HTTPRequest, _ ctx: WorkerContext) throws -> HTTPResponse {
        let creds = try Credentials.register(request.body)
        let hash = hasher.hash(creds.password)
        let db = try ctx.postgres()
        let inserted = try db.query(
            """
            INSERT INTO users (user_name, name, password_hash) VALUES ($1, $2, $3)
            ON CONFLICT (user_name) DO NOTHING RETURNING id
            """, [creds.userName, creds.name, hash])
        guard inserted.count == 1 else { throw HTTPError(400, "user name already taken") }
        return .json(.object([("success", .bool(true)), ("data", .null)]))
    }

    func login(_ request: HTTPRequest, _ ctx: WorkerContext) throws -> HTTPResponse {
        let creds = try Credentials.login(request.body)
        let redis = try? ctx.redis()
        let address = request.header("x-real-ip") ?? ""
        if let seconds = throttle.blockedFor(creds.userName, address: address, redis: redis) {
            return HTTPResponse.error(429, "too many failed logins for this user name; retry in \(seconds) s")
                .retryAfter(Int(seconds))
        }
        let db = try ctx.postgres()
        let row = try db.query("SELECT id, password_hash, role FROM users WHERE user_name = $1", [creds.userName])
        guard let id = row.int64(0, 0), let stored = row.string(0, 1) else {
            hasher.dummyVerify(creds.password)
            throttle.failed(creds.userName, address: address, redis: redis)
            throw HTTPError(400, Self.badCredentials)
        }
        guard case .match(let needsRehash) = hasher.verify(creds.password, stored: stored) else {
            throttle.failed(creds.userName, address: address, redis: redis)
            throw HTTPError(400, Self.badCredentials)
        }
        throttle.succeeded(creds.userName, address: address, redis: redis)
        if needsRehash {
            // The cost changed since this hash was made: store one at the current cost. The
            // condition keeps a concurrent password change from being overwritten.
            try db.query(
                "UPDATE users SET password_hash = $1 WHERE id = $2 AND password_hash = $3",
                [hasher.hash(creds.password), id, stored])
        }
        let now = Clock.wallMillis() / 1000
        let token = jwt.sign(
            JWTClaims(
                subject: String(id), name: creds.userName, role: row.string(0, 2) ?? "user",
                issuedAt: now, expiresAt: now + tokenTTLSeconds))
        return .json(.object([("success", .bool(true)), ("data", .object([("token", .string(token))]))]))
    }

    /// Echoes the identity the gateway forwarded (not in the public spec; used by the security tests
    /// to show that x-user-* headers sent by a client never reach a service).
    func whoami(_ request: HTTPRequest, _ ctx: WorkerContext) throws -> HTTPResponse {
        guard let id = request.header("x-user-id"), let name = request.header("x-user-name") else {
            throw HTTPError(401, "missing identity")
        }
        return .json(
            .object([
                ("success", .bool(true)),
                (
                    "data",
                    .object([
                        ("user_id", .string(id)), ("user_name", .string(name)),
                        ("role", .string(request.header("x-user-role") ?? "user")),
                        ("request_id", request.header("x-request-id").map { .string($0) } ?? .null),
                    ])
                ),
            ]))
    }
}
