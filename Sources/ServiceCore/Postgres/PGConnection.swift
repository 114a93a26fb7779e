import CLibPQ
import Glibc

public struct PGError: Error, CustomStringConvertible, Sendable {
    /// SQLSTATE, e.g. `23505` unique violation, `40001` serialization failure; empty for connection errors.
    public let sqlState: String
    public let message: String
    public var description: String { sqlState.isEmpty ? "postgres: \(message)" : "postgres \(sqlState): \(message)" }
    public var isRetryable: Bool { sqlState == "40001" || sqlState == "40P01" }
    public var isUniqueViolation: Bool { sqlState == "23505" }
    /// A row names one that is not there: in this ledger a user id from a token whose user the
    /// database does not have (a restored or reset database, the signing key kept).
    public var isForeignKeyViolation: Bool { sqlState == "23503" }
    /// The server could not be reached or went away (no SQLSTATE, class 08, or shut down / still
    /// starting: 57P01-57P03), or we reached a read-only node (25006: a standby, mid-failover).
    /// A statement that failed this way may or may not have committed if it was a COMMIT.
    public var isUnavailable: Bool {
        sqlState.isEmpty || sqlState.hasPrefix("08") || ["57P01", "57P02", "57P03", "25006"].contains(sqlState)
    }
}

/// A value bound to a query parameter. Queries are always parameterised: user input never
/// becomes SQL text.
public protocol PGBindable {
    var pgText: String? { get }
}
extension String: PGBindable { public var pgText: String? { self } }
extension Int: PGBindable { public var pgText: String? { String(self) } }
extension Int64: PGBindable { public var pgText: String? { String(self) } }
extension Int32: PGBindable { public var pgText: String? { String(self) } }
extension Bool: PGBindable { public var pgText: String? { self ? "t" : "f" } }
extension Optional: PGBindable where Wrapped: PGBindable { public var pgText: String? { self?.pgText } }

/// One libpq connection. Not thread-safe: each worker thread owns its own (see `WorkerContext.postgres()`).
/// Statements are prepared once per connection and reused, saving the parse/plan on every call.
public final class PGConnection {
    private var conn: OpaquePointer?
    private var prepared: [String: String] = [:]
    private var inTransaction = false
    public let connInfo: String

    public init(_ connInfo: String) throws {
        self.connInfo = connInfo
        conn = PGHostOrder.connect(connInfo)
        guard let c = conn, PQstatus(c) == CONNECTION_OK else {
            let msg = conn.map { String(cString: PQerrorMessage($0)) } ?? "out of memory"
            PQfinish(conn)
            conn = nil
            throw PGError(sqlState: "", message: msg.trimmingASCIIWhitespace())
        }
    }

    deinit { PQfinish(conn) }

    /// Whether the connection can take a query. An idle connection has nothing to read; a server
    /// that went away has closed the socket (usually after a FATAL message), which libpq would
    /// only notice when the next statement fails. Peeking before use, rather than retrying after
    /// a failed statement, never runs a statement twice.
    public var isHealthy: Bool {
        guard let c = conn, PQstatus(c) == CONNECTION_OK else { return false }
        if inTransaction { return true }
        var b: UInt8 = 0
        let n = recv(PQsocket(c), &b, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
        return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)
    }

    /// Runs one parameterised statement (prepared and cached on first use).
    @discardableResult
    public func query(_ sql: String, _ params: [any PGBindable] = []) throws -> PGResult {
        guard let c = conn else { throw PGError(sqlState: "", message: "connection closed") }
        let name: String
        if let n = prepared[sql] {
            name = n
        } else {
            name = "s\(prepared.count)"
            let r = PQprepare(c, name, sql, Int32(params.count), nil)
            try check(r, c)
            PQclear(r)
            prepared[sql] = name
        }
        let texts = params.map { $0.pgText }
        let result = withCStrings(texts) { ptrs in
            PQexecPrepared(c, name, Int32(ptrs.count), ptrs, nil, nil, 0)
        }
        try check(result, c)
        return PGResult(result)
    }

    /// Runs SQL text with no parameters (several statements allowed): migrations and DDL only.
    public func execute(_ sql: String) throws {
        guard let c = conn else { throw PGError(sqlState: "", message: "connection closed") }
        let r = PQexec(c, sql)
        try check(r, c)
        PQclear(r)
    }

    /// Subscribes this connection to a NOTIFY channel (a fixed identifier, never user input).
    public func listen(_ channel: String) throws {
        precondition(channel.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" }, "channel must be an identifier")
        try execute("LISTEN \(channel)")
    }

    /// Notifications delivered to this connection, waiting up to `timeoutMillis` for the first.
    /// Throws when the connection broke (the caller reconnects and must assume it missed some).
    public func waitForNotifications(timeoutMillis: Int32) throws -> [(channel: String, payload: String)] {
        guard let c = conn else { throw PGError(sqlState: "", message: "connection closed") }
        var out = drainNotifications(c)
        if out.isEmpty {
            var p = pollfd(fd: PQsocket(c), events: Int16(POLLIN), revents: 0)
            _ = poll(&p, 1, timeoutMillis)
        }
        guard PQconsumeInput(c) == 1 else {
            throw PGError(
                sqlState: "",
                message: String(cString: PQerrorMessage(c)).trimmingASCIIWhitespace())
        }
        out += drainNotifications(c)
        return out
    }

    private func drainNotifications(_ c: OpaquePointer) -> [(channel: String, payload: String)] {
        var out: [(channel: String, payload: String)] = []
        while let n = PQnotifies(c) {
            out.append((String(cString: n.pointee.relname), String(cString: n.pointee.extra)))
            PQfreemem(n)
        }
        return out
    }

    /// Runs `body` in one transaction; retries the whole body on serialization failure or deadlock.
    /// Whatever `body` throws rolls the transaction back, so a failed operation leaves no row behind.
    public func transaction<T>(
        isolation: String = "READ COMMITTED", maxAttempts: Int = 8,
        _ body: (PGConnection) throws -> T
    ) throws -> T {
        precondition(!inTransaction, "nested transaction")
        var attempt = 0
        while true {
            attempt += 1
            try execute("BEGIN ISOLATION LEVEL \(isolation)")
            inTransaction = true
            do {
                let value = try body(self)
                try execute("COMMIT")
                inTransaction = false
                return value
            } catch let e as PGError where e.isRetryable && attempt < maxAttempts {
                inTransaction = false
                try? execute("ROLLBACK")
                usleep(UInt32(min(20_000, 500 * (1 << attempt))))
            } catch {
                inTransaction = false
                try? execute("ROLLBACK")
                throw error
            }
        }
    }

    private func check(_ result: OpaquePointer?, _ c: OpaquePointer) throws {
        let status = result.map { PQresultStatus($0) } ?? PGRES_FATAL_ERROR
        if status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK { return }
        var state = ""
        var message = String(cString: PQerrorMessage(c))
        if let r = result {
            if let s = PQresultErrorField(r, Int32(UInt8(ascii: "C"))) { state = String(cString: s) }
            if let m = PQresultErrorField(r, Int32(UInt8(ascii: "M"))) { message = String(cString: m) }
            PQclear(r)
        }
        if PQstatus(c) != CONNECTION_OK { prepared.removeAll() }
        throw PGError(sqlState: state, message: message.trimmingASCIIWhitespace())
    }
}

/// Calls `body` with a C array of NUL-terminated copies of `strings` (nil stays NULL = SQL NULL).
func withCStrings<R>(_ strings: [String?], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
    let copies = strings.map { $0.map { strdup($0) } ?? nil }
    defer { copies.forEach { free($0) } }
    return body(copies.map { $0.map { UnsafePointer($0) } })
}
