import ServiceCore

/// Gateway configuration from the environment (defaults in parentheses):
///   DT_UPSTREAM_AUTH/ENGINE/UTIL/BUY/SELL  comma-separated host:port lists (the default local ports)
///   DT_UPSTREAM_TIMEOUT_MS (30000)  DT_BREAKER_FAILURES (5)  DT_BREAKER_OPEN_MS (5000)
///   DT_RATE_USER_RPS (1000) DT_RATE_USER_BURST (2000)   DT_RATE_IP_RPS (20000) DT_RATE_IP_BURST (40000)
///   (a rate of 0 turns that limiter off)   DT_JWT_SECRET (required)
///   Bulkheads, per upstream group: DT_BULKHEAD_<GROUP>_REQUESTS (in flight: auth and engine 4096,
///   classic groups 512) and DT_BULKHEAD_<GROUP>_BYTES (request bytes held, 64 MiB), GROUP one of
///   AUTH ENGINE UTIL BUY SELL.
public struct GatewaySettings: Sendable {
    public let upstreams: [UpstreamGroup: [Endpoint]]
    public let upstreamTimeoutMillis: Int
    public let breakerFailures: Int
    public let breakerOpenMillis: Int
    public let userRate: Double
    public let userBurst: Double
    public let ipRate: Double
    public let ipBurst: Double
    public let jwtSecret: String
    public let bulkheads: [UpstreamGroup: BulkheadLimits]

    public init(_ config: ServiceConfig) {
        var ups: [UpstreamGroup: [Endpoint]] = [:]
        var bulkheads: [UpstreamGroup: BulkheadLimits] = [:]
        for group in UpstreamGroup.allCases {
            // Default: every local instance of the group's service (deploy/topology.json).
            let local = group.service.ports.map { "127.0.0.1:\($0)" }.joined(separator: ",")
            ups[group] = config.endpoints(group.variable, default: local)
            let name = "DT_BULKHEAD_" + group.rawValue.uppercased()
            let requests = group == .auth || group == .engine ? 4096 : 512
            bulkheads[group] = BulkheadLimits(
                requests: max(1, config.int(name + "_REQUESTS", default: requests)),
                bytes: max(1, config.int(name + "_BYTES", default: 64 << 20)))
        }
        upstreams = ups
        self.bulkheads = bulkheads
        upstreamTimeoutMillis = max(1, config.int("DT_UPSTREAM_TIMEOUT_MS", default: 30_000))
        breakerFailures = max(1, config.int("DT_BREAKER_FAILURES", default: 5))
        // Short: after an instance restarts (kill -9, scripts/up) its first answer waits for the
        // half-open probe, so this bounds recovery; one probe per 500 ms costs a sick instance little.
        breakerOpenMillis = max(0, config.int("DT_BREAKER_OPEN_MS", default: 500))
        userRate = Self.number(config, "DT_RATE_USER_RPS", 1000)
        userBurst = Self.number(config, "DT_RATE_USER_BURST", 2000)
        ipRate = Self.number(config, "DT_RATE_IP_RPS", 20_000)
        ipBurst = Self.number(config, "DT_RATE_IP_BURST", 40_000)
        jwtSecret = config.string("DT_JWT_SECRET", default: "")
    }

    private static func number(_ config: ServiceConfig, _ key: String, _ def: Double) -> Double {
        Double(config.string(key, default: "")) ?? def
    }
}
