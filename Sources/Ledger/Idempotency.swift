import ServiceCore

/// `Idempotency-Key` (the IETF httpapi draft's header) on authenticated mutating POSTs.
///
/// Contract: a repeat with the same key by the same user returns the first outcome (same status
/// and body, plus `Idempotent-Replayed: true`) and changes nothing; the same key with another
/// method, path or body is 422; a repeat while the first is still running is 409 with
/// `Retry-After`. The outcome is stored in the same PostgreSQL transaction as the effect, so
/// either both exist or neither does; 5xx outcomes are not stored (nothing happened, or the
/// outcome is unknown and a retry with the key finds out). Keys are kept `keepHours` (≥ 24 h).
///
/// "Still running" is a session-level advisory lock on the worker's connection: it goes away
/// with the connection if the service dies, so a crash never leaves a key stuck in flight.
public enum Idempotency {
    public static let header = "idempotency-key"
    public static let maxKeyBytes = 255
    public static let keepHours = 48

    public enum Start {
        /// No key: run as usual.
        case none
        /// Run, store the outcome with `ticket` in the effect's transaction, then `finish`.
        case execute(IdempotencyTicket)
        /// Answer this without running (a replay, 409 or 422).
        case answer(HTTPResponse)
    }

    /// Validates the key, takes the in-flight lock, and replays a stored outcome.
    public static func start(_ request: HTTPRequest, userId: Int64, db: PGConnection) throws -> Start {
        guard let key = request.header(header) else { return .none }
        guard (1...maxKeyBytes).contains(key.utf8.count), key.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7f }) else {
            throw HTTPError(400, "Idempotency-Key must be 1 to \(maxKeyBytes) printable ASCII characters")
        }
        let target = request.query.isEmpty ? request.path : request.path + "?" + request.query
        let fingerprint = Base64.encode(Crypto.sha256(Array("\(request.method) \(target)\n".utf8) + request.body))
        let ticket = IdempotencyTicket(userId: userId, key: key, fingerprint: fingerprint)
        guard try db.query("SELECT pg_try_advisory_lock(hashtextextended($1, 7))", [ticket.lockName]).bool(0, 0) == true
        else {
            return .answer(
                HTTPResponse.error(409, "a request with this Idempotency-Key is still in progress").retryAfter())
        }
        do {
            if Int.random(in: 0..<4096) == 0 {
                try db.query(
                    "DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => $1)", [keepHours])
            }
            let stored = try db.query(
                "SELECT fingerprint, status, body FROM idempotency_keys WHERE user_id = $1 AND key = $2",
                [userId, key])
            guard stored.count == 1 else { return .execute(ticket) }
            finish(ticket, db: db)
            guard stored.string(0, 0) == fingerprint else {
                return .answer(.error(422, "this Idempotency-Key was used with a different request"))
            }
            var replay = HTTPResponse(
                status: Int(stored.int64(0, 1) ?? 500), headers: [("Content-Type", "application/json")],
                body: Array((stored.string(0, 2) ?? "").utf8))
            replay.headers.append(("Idempotent-Replayed", "true"))
            return .answer(replay)
        } catch {
            finish(ticket, db: db)
            throw error
        }
    }

    /// Releases the in-flight lock.
    public static func finish(_ ticket: IdempotencyTicket, db: PGConnection) {
        _ = try? db.query("SELECT pg_advisory_unlock(hashtextextended($1, 7))", [ticket.lockName])
    }

    /// The whole cycle for a handler that writes in its own transaction and stores the outcome
    /// there with `ticket?.record`. A 4xx it throws (its transaction rolled back, so nothing
    /// happened) is stored on its own, so a repeat gets the same answer.
    public static func perform(
        _ request: HTTPRequest, userId: Int64, db: PGConnection,
        _ body: (IdempotencyTicket?) throws -> HTTPResponse
    ) throws -> HTTPResponse {
        switch try start(request, userId: userId, db: db) {
        case .answer(let response):
            return response
        case .none:
            return try body(nil)
        case .execute(let ticket):
            defer { finish(ticket, db: db) }
            do {
                return try body(ticket)
            } catch let e as HTTPError where e.status < 500 {
                let response = HTTPResponse.error(e.status, e.message)
                try db.transaction { tx in try ticket.record(tx, response) }
                return response
            }
        }
    }
}

/// One keyed request being executed: what its stored outcome is filed under.
public struct IdempotencyTicket: Sendable {
    public let userId: Int64
    public let key: String
    public let fingerprint: String

    var lockName: String { "\(userId):\(key)" }

    /// Stores the outcome inside `tx`, the transaction that writes the request's effect.
    public func record(_ tx: PGConnection, _ response: HTTPResponse) throws {
        guard response.status < 500 else { return }
        try tx.query(
            """
            INSERT INTO idempotency_keys (user_id, key, fingerprint, status, body) VALUES ($1, $2, $3, $4, $5)
            """, [userId, key, fingerprint, response.status, String(decoding: response.body, as: UTF8.self)])
    }
}
