import GatewayCore
import Glibc
import ServiceCore

// API gateway: verifies tokens, applies rate limits, routes to upstream instances behind
// per-instance circuit breakers and per-group bulkheads. Proxying runs on the event loops
// (GatewayCore), so the worker pool only serves the rare blocking route.
let service = Service(Topology.gateway, defaultWorkers: 2, callers: .publicExcept(["/gateway/", "/metrics"]))
let signer = service.requireInternalProof()
let settings = GatewaySettings(service.config)
guard !settings.jwtSecret.isEmpty else {
    service.logger.error("DT_JWT_SECRET is not set; refusing to start")
    exit(1)
}
Gateway.install(on: service, settings: settings, signer: signer)

var upstreams: Logger.Metadata = [:]
for group in UpstreamGroup.allCases {
    upstreams[group.rawValue] = .string((settings.upstreams[group] ?? []).map(\.description).joined(separator: ","))
}
service.logger.info("gateway ready", metadata: upstreams)
service.runForever()
