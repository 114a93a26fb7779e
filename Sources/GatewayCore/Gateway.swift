import ServiceCore

/// Wires the gateway into a `Service`: the proxied prefixes as async routes (answered on the
/// event loops, no worker thread per request) and `/gateway/status`.
public enum Gateway {
    static let proxiedPrefixes = ["/authentication/", "/setup/", "/transaction/", "/engine/", "/classic/"]

    public static func install(on service: Service, settings: GatewaySettings, signer: GatewayProof) {
        var pools: [UpstreamGroup: UpstreamPool] = [:]
        var bulkheads: [UpstreamGroup: Bulkhead] = [:]
        for group in UpstreamGroup.allCases {
            pools[group] = UpstreamPool(group: group, endpoints: settings.upstreams[group] ?? []) {
                CircuitBreaker(failureThreshold: settings.breakerFailures, openMillis: settings.breakerOpenMillis)
            }
            bulkheads[group] = Bulkhead(settings.bulkheads[group] ?? BulkheadLimits(requests: 512, bytes: 64 << 20))
        }
        let ipLimiter = RateLimiter(ratePerSecond: settings.ipRate, burst: settings.ipBurst)
        let userLimiter = RateLimiter(ratePerSecond: settings.userRate, burst: settings.userBurst)
        let handler = GatewayHandler(
            authenticator: TokenAuthenticator(jwt: JWT(secret: settings.jwtSecret), clock: SystemClock()),
            ipLimiter: ipLimiter, userLimiter: userLimiter,
            proxy: Proxy(
                pools: pools, bulkheads: bulkheads, timeoutMillis: settings.upstreamTimeoutMillis,
                logger: service.logger,
                signer: signer),
            requestIds: RequestIds())

        for prefix in proxiedPrefixes {
            service.router.asyncPrefix(prefix, label: "proxy \(prefix)*") { request, responder in
                handler.handle(request, responder)
            }
        }
        service.router.setAsyncFallback(label: "unknown") { request, responder in handler.handle(request, responder) }

        // Breaker, bulkhead and limiter state, for operators and the tests (nginx does not route /gateway/; it needs the proof).
        let frozenPools = pools
        let frozenBulkheads = bulkheads
        service.router.get("/gateway/status", mode: .inline) { _, _ in
            var ups: [(String, JSON)] = []
            var compartments: [(String, JSON)] = []
            for group in UpstreamGroup.allCases {
                ups.append((group.rawValue, frozenPools[group]?.statusJSON() ?? .array([])))
                if let b = frozenBulkheads[group] {
                    let s = b.snapshot
                    compartments.append(
                        (
                            group.rawValue,
                            .object([
                                ("in_flight", .int(s.requests)), ("bytes", .int(s.bytes)), ("refused", .int(s.refused)),
                                ("max_in_flight", .int(b.limits.requests)), ("max_bytes", .int(b.limits.bytes)),
                            ])
                        ))
                }
            }
            return .json(
                .object([
                    ("upstreams", .object(ups)),
                    ("bulkheads", .object(compartments)),
                    (
                        "rate_limit",
                        .object([
                            ("user_rps", .number(String(settings.userRate))),
                            ("user_burst", .number(String(settings.userBurst))),
                            ("ip_rps", .number(String(settings.ipRate))),
                            ("ip_burst", .number(String(settings.ipBurst))),
                            ("tracked_users", .int(userLimiter.trackedKeys)),
                            ("tracked_ips", .int(ipLimiter.trackedKeys)),
                        ])
                    ),
                ]))
        }
        for group in UpstreamGroup.allCases {
            if let b = bulkheads[group] {
                service.gauge("gateway_bulkhead_in_flight_\(group.rawValue)") { b.snapshot.requests }
            }
        }
    }
}
