import CHiredis

public enum RedisReply: Sendable, Equatable {
    case string([UInt8])
    case status(String)
    case integer(Int64)
    case null
    case array([RedisReply])
    case error(String)

    public var text: String? {
        switch self {
        case .string(let b): return String(decoding: b, as: UTF8.self)
        case .status(let s): return s
        case .integer(let i): return String(i)
        default: return nil
        }
    }

    public var int: Int64? {
        switch self {
        case .integer(let i): return i
        case .string(let b): return Int64(String(decoding: b, as: UTF8.self))
        default: return nil
        }
    }
}

public struct RedisError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(message: String) { self.message = message }
    public var description: String { "redis: \(message)" }
}

/// Where Redis is and the `requirepass` password it wants (nil: none).
public struct RedisTarget: Sendable, CustomStringConvertible {
    public let endpoint: Endpoint
    public let password: String?

    public init(_ endpoint: Endpoint, password: String?) {
        self.endpoint = endpoint
        self.password = password
    }

    public var description: String { endpoint.description }
}

/// A hiredis connection. Not thread-safe: each worker thread owns one (`WorkerContext.redis()`).
/// Arguments are binary-safe. After an I/O error the next command reconnects (and authenticates
/// again), so a restarted Redis is picked up without restarting the service.
public final class RedisConnection: ReleasedWhenIdle {
    private var ctx: UnsafeMutablePointer<redisContext>?
    public let endpoint: Endpoint
    private let password: String?
    private let timeoutMillis: Int
    private let reconnects: Bool

    /// `reconnects` false: an I/O failure is thrown, never hidden behind a fresh connection, for a
    /// caller that must know the server went away (the event feed: a restarted Redis lost the
    /// stream, and its readers need a `reset`).
    public init(_ target: RedisTarget, timeoutMillis: Int = 2000, reconnects: Bool = true) throws {
        self.endpoint = target.endpoint
        self.password = target.password
        self.timeoutMillis = timeoutMillis
        self.reconnects = reconnects
        try connect()
    }

    public convenience init(_ endpoint: Endpoint, password: String? = nil, timeoutMillis: Int = 2000) throws {
        try self.init(RedisTarget(endpoint, password: password), timeoutMillis: timeoutMillis)
    }

    deinit { if let c = ctx { redisFree(c) } }

    private func connect() throws {
        if let c = ctx {
            redisFree(c)
            ctx = nil
        }
        let tv = timeval(tv_sec: timeoutMillis / 1000, tv_usec: Int((timeoutMillis % 1000) * 1000))
        let made =
            endpoint.isUnixSocket
            ? redisConnectUnixWithTimeout(endpoint.host, tv)
            : redisConnectWithTimeout(endpoint.host, Int32(endpoint.port), tv)
        guard let c = made else {
            throw RedisError(message: "cannot allocate context")
        }
        if c.pointee.err != 0 {
            let msg = errorString(c)
            redisFree(c)
            throw RedisError(message: "connect \(endpoint): \(msg)")
        }
        _ = redisSetTimeout(c, tv)
        ctx = c
        if let password { try authenticate(password) }
    }

    /// AUTH on every (re)connect: a fresh connection to a `requirepass` server answers NOAUTH to anything else.
    private func authenticate(_ password: String) throws {
        let reply = try pipelineOnce([[Array("AUTH".utf8), Array(password.utf8)]])[0]
        if case .error(let message) = reply {
            if let c = ctx {
                redisFree(c)
                ctx = nil
            }
            throw RedisError(message: "AUTH at \(endpoint) refused: \(message)")
        }
    }

    /// One command, e.g. `["SET", key, value, "EX", "60"]`. Retries once on a fresh connection if
    /// the socket failed (Redis restarted); a Redis-level error comes back as `.error`.
    @discardableResult
    public func command(_ args: [String]) throws -> RedisReply {
        try commandBytes(args.map { Array($0.utf8) })
    }

    @discardableResult
    public func commandBytes(_ args: [[UInt8]]) throws -> RedisReply {
        try withReconnect { try pipelineOnce([args])[0] }
    }

    /// Sends every command before reading any reply (one round trip).
    public func pipeline(_ commands: [[String]]) throws -> [RedisReply] {
        let bytes = commands.map { $0.map { Array($0.utf8) } }
        return try withReconnect { try pipelineOnce(bytes) }
    }

    private func withReconnect<T>(_ body: () throws -> T) throws -> T {
        if ctx == nil {
            guard reconnects else { throw RedisError(message: "connection to \(endpoint) lost") }
            try connect()
        }
        do {
            return try body()
        } catch {
            guard reconnects else {
                if let c = ctx {
                    redisFree(c)
                    ctx = nil
                }
                throw error
            }
            try connect()
            return try body()
        }
    }

    private func pipelineOnce(_ commands: [[[UInt8]]]) throws -> [RedisReply] {
        guard let c = ctx else { throw RedisError(message: "not connected") }
        for args in commands {
            let rc = withArgv(args) { argv, lens in
                redisAppendCommandArgv(c, Int32(args.count), argv, lens)
            }
            guard rc == REDIS_OK else { throw ioFailure(c) }
        }
        var replies: [RedisReply] = []
        replies.reserveCapacity(commands.count)
        for _ in commands {
            var raw: UnsafeMutableRawPointer?
            guard redisGetReply(c, &raw) == REDIS_OK, let r = raw else { throw ioFailure(c) }
            let reply = r.assumingMemoryBound(to: redisReply.self)
            replies.append(convert(reply))
            freeReplyObject(r)
        }
        return replies
    }

    private func ioFailure(_ c: UnsafeMutablePointer<redisContext>) -> RedisError {
        let msg = errorString(c)
        redisFree(c)
        ctx = nil
        return RedisError(message: msg.isEmpty ? "connection lost" : msg)
    }

    private func errorString(_ c: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: c.pointee.errstr) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    private func convert(_ r: UnsafeMutablePointer<redisReply>) -> RedisReply {
        let p = r.pointee
        switch p.type {
        case REDIS_REPLY_STRING:
            return .string(p.str.map { Array(UnsafeRawBufferPointer(start: $0, count: Int(p.len))) } ?? [])
        case REDIS_REPLY_STATUS:
            return .status(
                p.str.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: Int(p.len)), as: UTF8.self) }
                    ?? "")
        case REDIS_REPLY_ERROR:
            return .error(
                p.str.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: Int(p.len)), as: UTF8.self) }
                    ?? "")
        case REDIS_REPLY_INTEGER:
            return .integer(Int64(p.integer))
        case REDIS_REPLY_ARRAY:
            var items: [RedisReply] = []
            for i in 0..<Int(p.elements) {
                if let e = p.element[i] { items.append(convert(e)) }
            }
            return .array(items)
        default:
            return .null
        }
    }
}

private func withArgv<R>(
    _ args: [[UInt8]], _ body: (UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> R
) -> R {
    let copies: [UnsafeMutablePointer<UInt8>] = args.map { a in
        let p = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, a.count))
        a.withUnsafeBufferPointer { if let base = $0.baseAddress { p.initialize(from: base, count: a.count) } }
        return p
    }
    defer { copies.forEach { $0.deallocate() } }
    var argv: [UnsafePointer<CChar>?] = copies.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) }
    let lens = args.map { $0.count }
    return argv.withUnsafeMutableBufferPointer { av in
        lens.withUnsafeBufferPointer { lp in body(av.baseAddress!, lp.baseAddress!) }
    }
}

extension WorkerContext {
    /// This thread's Redis connection (reconnects by itself after failures).
    public func redis() throws -> RedisConnection {
        try local(RedisConnection.self) { try RedisConnection(config.redis) }
    }
}
