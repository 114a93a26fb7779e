import Dispatch
import Glibc

/// Wires a service: config, logger, router with /health and /metrics, server, SIGTERM drain.
/// Each executable's `main` builds its routes and calls `run()`.
public final class Service: @unchecked Sendable {
    public let config: ServiceConfig
    public let logger: Logger
    public let router = Router()
    public let options: HTTPServerOptions
    public let callers: CallerPolicy
    private var server: HTTPServer?
    private var signalSources: [DispatchSourceSignal] = []
    /// Checks run by /health besides "the process answers" (e.g. database reachable).
    private var healthChecks: [(String, @Sendable (WorkerContext) -> Bool)] = []

    /// `defaultWorkers` sizes the blocking pool when DT_WORKERS is unset: services whose handlers
    /// wait on slow peers (quotes, upstreams) need more threads than CPU-bound ones.
    /// `callers` decides which requests need the gateway's proof (see `CallerPolicy`).
    /// A service of deploy/topology.json: its name, and its first port as the default.
    public convenience init(
        _ topology: ServiceTopology, defaultWorkers: Int = 16, callers: CallerPolicy = .gatewayOnly,
        environment: [String: String] = ProcessEnvironment.variables
    ) {
        self.init(
            name: topology.name, defaultPort: topology.port, defaultWorkers: defaultWorkers, callers: callers,
            environment: environment)
    }

    public init(
        name: String, defaultPort: Int, defaultWorkers: Int = 16, callers: CallerPolicy = .gatewayOnly,
        environment: [String: String] = ProcessEnvironment.variables
    ) {
        config = ServiceConfig(name: name, environment: environment)
        MallocArenas.limit(to: max(2, config.cores))
        logger = Logger.json(config: config)
        options = HTTPServerOptions(config: config, defaultPort: defaultPort, defaultWorkers: defaultWorkers)
        self.callers = callers
    }

    /// A secret this service cannot run without. There are no built-in defaults: when it is
    /// missing the service logs why and exits before serving anything.
    @discardableResult
    public func requireSecret(_ key: String, _ purpose: String) -> String {
        guard let value = config.secret(key) else {
            logger.error("\(key) is not set; refusing to start (needed for \(purpose))")
            exit(1)
        }
        return value
    }

    /// The DT_INTERNAL_KEY proof that signs and checks service-to-service requests (required).
    public func requireInternalProof() -> GatewayProof {
        guard let proof = GatewayProof(key: requireSecret("DT_INTERNAL_KEY", "the gateway proof on service requests"))
        else {
            exit(1) // unreachable: requireSecret returns a non-empty key
        }
        return proof
    }

    private var pendingGauges: [(String, @Sendable () -> Int)] = []

    /// A gauge for /metrics, read at scrape time (e.g. circuit-breaker state, queue lengths).
    public func gauge(_ name: String, _ read: @escaping @Sendable () -> Int) {
        if let server { server.metrics.gauge(name, read) } else { pendingGauges.append((name, read)) }
    }

    public func addHealthCheck(_ name: String, _ check: @escaping @Sendable (WorkerContext) -> Bool) {
        healthChecks.append((name, check))
    }

    /// Starts serving and returns the bound port (use `runForever` in executables).
    @discardableResult
    public func start() throws -> Int {
        if callers.needsKey {
            let gate = CallerGate(policy: callers, proof: requireInternalProof())
            router.gate = { gate.refusal($0) }
        }
        let checks = healthChecks
        router.get("/health", mode: checks.isEmpty ? .inline : .blocking) { _, ctx in
            var failed: [JSON] = []
            for (name, check) in checks where !check(ctx) { failed.append(.string(name)) }
            if failed.isEmpty { return .json(.object([("status", .string("ok"))])) }
            return .json(.object([("status", .string("degraded")), ("failing", .array(failed))]), status: 503)
        }
        let config = self.config
        let server = HTTPServer(options: options, router: router, logger: logger) {
            WorkerContext(config: config, index: $0)
        }
        router.get("/metrics", mode: .inline) { [weak server] _, _ in
            HTTPResponse(
                status: 200, headers: [("Content-Type", "text/plain; version=0.0.4")],
                body: Array((server?.metrics.render() ?? "").utf8))
        }
        for (name, read) in pendingGauges { server.metrics.gauge(name, read) }
        try server.start()
        self.server = server
        logger.info(
            "listening",
            metadata: [
                "port": .stringConvertible(server.port), "loops": .stringConvertible(options.loops),
                "workers": .stringConvertible(options.workers),
            ])
        return server.port
    }

    /// Serves until SIGTERM/SIGINT, then drains and returns.
    public func runForever() -> Never {
        // Signals are taken over before the port opens: a SIGTERM sent as soon as the service
        // says it listens (tests, supervisors) must drain it, not fall between the two steps.
        let stop = DispatchSemaphore(value: 0)
        for sig in [SIGTERM, SIGINT] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { stop.signal() }
            source.resume()
            signalSources.append(source)
        }
        do {
            try start()
        } catch {
            logger.error("start failed", error: error)
            exit(1)
        }
        let server = self.server
        Threads.start(name: "drain") { [logger] in
            stop.wait()
            logger.info("draining")
            server?.shutdown()
        }
        server?.wait()
        logger.info("stopped")
        exit(0)
    }

    public func shutdown() {
        server?.shutdown()
        server?.wait()
    }
}
