import Foundation
import ServiceCore

// API gateway: verifies tokens, applies rate limits, routes to upstream instances behind
// per-instance circuit breakers. Settings: see GatewaySettings. Handlers block on upstream
// calls, hence many worker threads by default.
var environment = ProcessInfo.processInfo.environment
if (environment["DT_WORKERS"] ?? "").isEmpty { environment["DT_WORKERS"] = "256" }
// The gateway admits every user's request: under a burst, waiting in its queue beats a 503.
if (environment["DT_QUEUE"] ?? "").isEmpty { environment["DT_QUEUE"] = "32768" }

// The proxied routes are public (tokens are checked per route); its own status and /metrics need the proof.
let service = Service(name: "gateway", defaultPort: 8080, callers: .publicExcept(["/gateway/", "/metrics"]), environment: environment)
let internalProof = service.requireInternalProof()
let settings = GatewaySettings(service.config)
guard !settings.jwtSecret.isEmpty else {
    service.logger.error("DT_JWT_SECRET is not set; refusing to start")
    exit(1)
}

var pools: [UpstreamGroup: UpstreamPool] = [:]
for group in UpstreamGroup.allCases {
    pools[group] = UpstreamPool(group: group, endpoints: settings.upstreams[group] ?? []) {
        CircuitBreaker(failureThreshold: settings.breakerFailures, openMillis: settings.breakerOpenMillis)
    }
}
let ipLimiter = RateLimiter(ratePerSecond: settings.ipRate, burst: settings.ipBurst)
let userLimiter = RateLimiter(ratePerSecond: settings.userRate, burst: settings.userBurst)
let handler = GatewayHandler(
    authenticator: TokenAuthenticator(jwt: JWT(secret: settings.jwtSecret), clock: SystemClock()),
    ipLimiter: ipLimiter, userLimiter: userLimiter,
    proxy: Proxy(pools: pools, timeoutMillis: settings.upstreamTimeoutMillis, logger: service.logger,
                 client: HTTPClient(signer: internalProof)),
    requestIds: RequestIds())

for prefix in ["/authentication/", "/setup/", "/transaction/", "/engine/", "/classic/"] {
    service.router.prefix(prefix, label: "proxy \(prefix)*", mode: .blocking) { request, _ in handler.handle(request) }
}
service.router.setFallback(label: "unknown", mode: .inline) { request, _ in handler.handle(request) }

// Breaker and limiter state, for operators and the tests (nginx does not route /gateway/; it needs the proof).
let frozenPools = pools
service.router.get("/gateway/status", mode: .inline) { _, _ in
    var ups: [(String, JSON)] = []
    for group in UpstreamGroup.allCases { ups.append((group.rawValue, frozenPools[group]?.statusJSON() ?? .array([]))) }
    return .json(.object([
        ("upstreams", .object(ups)),
        ("rate_limit", .object([
            ("user_rps", .number(String(settings.userRate))), ("user_burst", .number(String(settings.userBurst))),
            ("ip_rps", .number(String(settings.ipRate))), ("ip_burst", .number(String(settings.ipBurst))),
            ("tracked_users", .int(userLimiter.trackedKeys)), ("tracked_ips", .int(ipLimiter.trackedKeys)),
        ])),
    ]))
}
var upstreamFields: [(String, JSON)] = []
for group in UpstreamGroup.allCases {
    upstreamFields.append((group.rawValue, .string((settings.upstreams[group] ?? []).map(\.description).joined(separator: ","))))
}
service.logger.info("gateway ready", upstreamFields)
service.runForever()
