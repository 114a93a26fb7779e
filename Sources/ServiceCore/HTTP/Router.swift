/// Where a handler runs: `inline` on the event-loop thread (must never block), `blocking` on the
/// worker pool (may wait on PostgreSQL, Redis or another service).
public enum HandlerMode: Sendable { case inline, blocking }

public typealias Handler = @Sendable (HTTPRequest, WorkerContext) throws -> HTTPResponse
/// Runs on the event loop and must not block: it answers through the `Responder`, at once or
/// later from loop events (e.g. the gateway's upstream sockets).
public typealias AsyncHandler = @Sendable (HTTPRequest, Responder) -> Void

/// A class: matching a request hands it around by one reference, not by copying its fields.
public final class Route: Sendable {
    public let label: String
    /// `label` as the metrics key (made once here, not per request).
    let metricsLabel: MetricsLabel
    public let mode: HandlerMode
    public let handler: Handler
    /// Set for async routes (then `handler` is unused).
    let async: AsyncHandler?

    init(label: String, mode: HandlerMode, handler: @escaping Handler, async: AsyncHandler? = nil) {
        self.label = label
        self.metricsLabel = MetricsLabel(label)
        self.mode = mode
        self.handler = handler
        self.async = async
    }

    static func async(_ label: String, _ body: @escaping AsyncHandler) -> Route {
        Route(
            label: label, mode: .inline, handler: { _, _ in .error(500, "async route run as a handler") }, async: body)
    }
}

enum RouteMatch {
    case found(Route)
    case methodNotAllowed
    case notFound
}

/// Exact-path routing table, plus optional prefix routes and a fallback. Built before the server
/// starts and read-only afterwards, so loops and workers share it without locks.
public final class Router: @unchecked Sendable {
    /// path -> its routes by method: a handful per path, so a scan beats hashing the method too.
    private var exact: [String: [(method: String, route: Route)]] = [:] {
        didSet { exactByBytes = PathTable(exact.map { ($0.key, $0.value) }) }
    }
    /// `exact` for lookups per request (no String hash).
    private var exactByBytes = PathTable<[(method: String, route: Route)]>()
    private var prefixes: [(prefix: String, route: Route)] = []
    private var fallback: Route?
    /// Checked before routing (the caller policy); a non-nil answer is sent instead of any route.
    var gate: (@Sendable (HTTPRequest) -> HTTPResponse?)?

    public init() {}

    public func add(_ method: String, _ path: String, mode: HandlerMode = .blocking, _ handler: @escaping Handler) {
        setExact(method, path, Route(label: "\(method) \(path)", mode: mode, handler: handler))
    }

    public func get(_ path: String, mode: HandlerMode = .blocking, _ handler: @escaping Handler) {
        add("GET", path, mode: mode, handler)
    }

    public func post(_ path: String, mode: HandlerMode = .blocking, _ handler: @escaping Handler) {
        add("POST", path, mode: mode, handler)
    }

    /// An exact route answered through a `Responder` on the event loop (e.g. a long-lived stream,
    /// or a read from Redis through `Responder.redis` with `Responder.offload` for what must block).
    public func addAsync(_ method: String, _ path: String, _ handler: @escaping AsyncHandler) {
        setExact(method, path, Route.async("\(method) \(path)", handler))
    }

    public func getAsync(_ path: String, _ handler: @escaping AsyncHandler) {
        addAsync("GET", path, handler)
    }

    /// Any method on any path starting with `prefix` (longest prefix wins).
    public func prefix(
        _ prefix: String, label: String? = nil, mode: HandlerMode = .blocking, _ handler: @escaping Handler
    ) {
        prefixes.append((prefix, Route(label: label ?? "\(prefix)*", mode: mode, handler: handler)))
        prefixes.sort { $0.prefix.count > $1.prefix.count }
    }

    /// Async variant of `prefix`: the handler answers through a `Responder` on the event loop.
    public func asyncPrefix(_ prefix: String, label: String? = nil, _ handler: @escaping AsyncHandler) {
        prefixes.append((prefix, Route.async(label ?? "\(prefix)*", handler)))
        prefixes.sort { $0.prefix.count > $1.prefix.count }
    }

    /// Async variant of `setFallback`.
    public func setAsyncFallback(label: String = "fallback", _ handler: @escaping AsyncHandler) {
        fallback = Route.async(label, handler)
    }

    /// Used when nothing else matches (e.g. the gateway's proxy).
    public func setFallback(label: String = "fallback", mode: HandlerMode = .blocking, _ handler: @escaping Handler) {
        fallback = Route(label: label, mode: mode, handler: handler)
    }

    /// Every exact route as (method, path), for checks such as "the OpenAPI file lists every route".
    public var routes: [(method: String, path: String)] {
        exact.flatMap { path, methods in methods.map { ($0.method, path) } }.sorted {
            ($0.path, $0.method) < ($1.path, $1.method)
        }
    }

    private func setExact(_ method: String, _ path: String, _ route: Route) {
        var methods = exact[path] ?? []
        methods.removeAll { $0.method == method }
        methods.append((method, route))
        exact[path] = methods
    }

    func match(method: String, path: String) -> RouteMatch {
        if let methods = exactByBytes.lookup(path) {
            for m in methods where m.method == method { return .found(m.route) }
            if method == "HEAD" { for m in methods where m.method == "GET" { return .found(m.route) } }
            if fallback == nil { return .methodNotAllowed }
        }
        for p in prefixes where path.hasPrefix(p.prefix) { return .found(p.route) }
        if let f = fallback { return .found(f) }
        return .notFound
    }
}
