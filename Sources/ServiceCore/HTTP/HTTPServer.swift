import CShim
import Dispatch
import Glibc

public enum HTTPServerError: Error, CustomStringConvertible {
    case system(String, Int32)
    public var description: String {
        switch self {
        case .system(let what, let code): return "\(what) failed: \(String(cString: strerror(code)))"
        }
    }
}

public struct HTTPServerOptions: Sendable {
    public var host = "127.0.0.1"
    /// 0 picks a free port (tests); read it back from `HTTPServer.port`.
    public var port = 8080
    public var loops = 1
    public var workers = 16
    public var queueCapacity = 4096
    /// A worker pool that has had no job for this long lets its workers drop their connections
    /// (DT_WORKER_IDLE_RELEASE_MS; 0: keep them).
    public var workerIdleReleaseMillis: UInt64 = 30_000
    public var maxHeaderBytes = 16 * 1024
    public var maxBodyBytes = 1024 * 1024
    public var idleTimeoutMillis: UInt64 = 120_000
    public var requestTimeoutMillis: UInt64 = 15_000
    public var writeTimeoutMillis: UInt64 = 30_000
    public var drainTimeoutMillis: UInt64 = 10_000
    public var backlog: Int32 = 4096
    /// Also listen on this Unix-domain socket (DT_UNIX_SOCKET): nginx on the same machine reaches
    /// the service there for a fraction of loopback TCP's kernel cost per read and write.
    public var unixPath: String?

    public init() {}

    /// Options from DT_* environment variables (see README).
    public init(config: ServiceConfig, defaultPort: Int, defaultWorkers: Int = 16) {
        host = config.host
        port = config.int("DT_PORT", default: defaultPort)
        loops = config.int("DT_LOOPS", default: config.cores)
        workers = config.int("DT_WORKERS", default: defaultWorkers)
        queueCapacity = config.int("DT_QUEUE", default: 4096)
        workerIdleReleaseMillis = UInt64(
            max(0, config.int("DT_WORKER_IDLE_RELEASE_MS", default: Int(workerIdleReleaseMillis))))
        maxHeaderBytes = config.int("DT_MAX_HEADER_BYTES", default: maxHeaderBytes)
        maxBodyBytes = config.int("DT_MAX_BODY_BYTES", default: maxBodyBytes)
        idleTimeoutMillis = UInt64(config.int("DT_IDLE_TIMEOUT_MS", default: Int(idleTimeoutMillis)))
        requestTimeoutMillis = UInt64(config.int("DT_REQUEST_TIMEOUT_MS", default: Int(requestTimeoutMillis)))
        if let path = config.values["DT_UNIX_SOCKET"], !path.isEmpty { unixPath = path }
    }
}

struct ServerTimeouts {
    var idleMillis: UInt64
    var requestMillis: UInt64
    var writeMillis: UInt64
    var drainMillis: UInt64
}

/// State shared by the loops and the pool (read-only after start, apart from thread-safe parts).
final class HTTPServerCore: @unchecked Sendable {
    let router: Router
    let limits: HTTPLimits
    let timeouts: ServerTimeouts
    let pool: WorkerPool
    let metrics: Metrics
    let logger: Logger
    let makeContext: @Sendable (Int) -> WorkerContext

    init(
        router: Router, options: HTTPServerOptions, metrics: Metrics, logger: Logger,
        makeContext: @escaping @Sendable (Int) -> WorkerContext
    ) {
        self.router = router
        self.limits = HTTPLimits(maxHeaderBytes: options.maxHeaderBytes, maxBodyBytes: options.maxBodyBytes)
        self.timeouts = ServerTimeouts(
            idleMillis: options.idleTimeoutMillis, requestMillis: options.requestTimeoutMillis,
            writeMillis: options.writeTimeoutMillis, drainMillis: options.drainTimeoutMillis)
        self.pool = WorkerPool(
            size: options.workers, capacity: options.queueCapacity, idleReleaseMillis: options.workerIdleReleaseMillis)
        self.metrics = metrics
        self.logger = logger
        self.makeContext = makeContext
    }

    /// Runs a handler, turning thrown errors into JSON error responses (never a crash).
    func run(_ route: Route, _ request: HTTPRequest, _ ctx: WorkerContext) -> HTTPResponse {
        let response = runHandler(route, request, ctx)
        return request.method == "HEAD" ? response.forHead() : response
    }

    private func runHandler(_ route: Route, _ request: HTTPRequest, _ ctx: WorkerContext) -> HTTPResponse {
        do {
            return try route.handler(request, ctx)
        } catch {
            return .forError(error, route: route.label, logger: logger)
        }
    }
}

extension HTTPResponse {
    /// The answer to a valid token whose user the ledger does not have.
    public static let unknownUser = "unknown user: the token names an account this ledger does not have"

    /// The JSON error answer for what a handler (blocking, or an async route's offloaded work)
    /// threw: its own status for `HTTPError`, 400 for unparsable JSON, 404 for a write naming a
    /// user the ledger lacks, 503 + Retry-After for a database that is unavailable, else 500
    /// (logged, since it is a bug, not the caller's fault).
    static func forError(_ error: any Error, route: String, logger: Logger) -> HTTPResponse {
        switch error {
        case let e as HTTPError: return .error(e.status, e.message)
        case let e as JSONParseError: return .error(400, e.description)
        case let e as PGError where e.isForeignKeyViolation:
            // Every stock and order id is checked before a write; a user id is not, since the
            // signed token vouches for it. Nothing was written (the transaction rolled back).
            logger.warning("write names a missing row", error: e, metadata: ["route": .string(route)])
            return .error(404, Self.unknownUser)
        case let e as PGError where e.isUnavailable:
            // A restart or failover: say so at once, and never as success. If the request wrote,
            // the connection may have died during COMMIT, so its outcome is unknown.
            logger.warning("database unavailable", error: e, metadata: ["route": .string(route)])
            return HTTPResponse.error(
                503,
                "database unavailable (restart or failover in progress): a write in flight "
                    + "may or may not have been recorded; retry with the same Idempotency-Key, or check before sending it again"
            ).retryAfter()
        default:
            logger.error("handler error", error: error, metadata: ["route": .string(route)])
            return .error(500, "internal error")
        }
    }
}

/// HTTP/1.1 server: `loops` epoll threads with SO_REUSEPORT listeners plus a bounded worker pool.
public final class HTTPServer: @unchecked Sendable {
    public let options: HTTPServerOptions
    public let metrics: Metrics
    private let core: HTTPServerCore
    private var loops: [EventLoop] = []
    private let finished = DispatchGroup()
    public private(set) var port: Int = 0

    public init(
        options: HTTPServerOptions, router: Router, logger: Logger,
        makeContext: @escaping @Sendable (Int) -> WorkerContext
    ) {
        self.options = options
        self.metrics = Metrics(shards: max(1, options.loops))
        self.core = HTTPServerCore(
            router: router, options: options, metrics: metrics, logger: logger, makeContext: makeContext)
    }

    /// Binds every loop's listener and starts the threads; returns at once.
    public func start() throws {
        cshim_ignore_sigpipe()
        var boundPort = options.port
        var unixFd: [Int32] = []
        if let path = options.unixPath {
            let fd = cshim_listen_unix(path, options.backlog)
            guard fd >= 0 else { throw HTTPServerError.system("listen on \(path)", -fd) }
            unixFd = [fd]
        }
        for i in 0..<max(1, options.loops) {
            let fd = cshim_listen_tcp(options.host, Int32(boundPort), options.backlog, 1)
            guard fd >= 0 else { throw HTTPServerError.system("listen on \(options.host):\(boundPort)", -fd) }
            if i == 0 { boundPort = Int(cshim_local_port(fd)) }
            // The Unix socket has one listener, so one loop owns (and at drain closes) it.
            loops.append(try EventLoop(index: i, listenFds: i == 0 ? [fd] + unixFd : [fd], server: core))
        }
        port = boundPort
        let pool = core.pool
        metrics.gauge("worker_queue_depth") { pool.queueDepth }
        metrics.gauge("worker_threads") { pool.size }
        let loopsCopy = loops
        metrics.gauge("open_connections") { loopsCopy.reduce(0) { $0 + $1.openConnections.load(ordering: .relaxed) } }
        core.pool.start(makeContext: core.makeContext)
        for loop in loops {
            finished.enter()
            Threads.start(name: "loop-\(loop.index)") { [finished] in
                loop.run()
                finished.leave()
            }
        }
    }

    /// Graceful drain: stop accepting, answer in-flight requests, close idle connections.
    public func shutdown() {
        for loop in loops { loop.requestStop() }
    }

    /// Blocks until every loop has drained, then stops the worker pool.
    public func wait() {
        finished.wait()
        core.pool.stop()
        if let path = options.unixPath { unlink(path) }
    }
}
