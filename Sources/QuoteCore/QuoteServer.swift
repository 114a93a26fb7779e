import Glibc
import ServiceCore

/// Quote-server simulator: the legacy UVic line protocol on DT_QUOTE_TCP_PORT (4444) and HTTP/JSON
/// on DT_PORT (8500). DT_QUOTE_SEED fixes the price walks and the signing secret; DT_QUOTE_DELAY_MS
/// adds latency per hit (the real server took ~0.5 s). Delayed answers sleep on their own thread,
/// so the HTTP side wants many workers (DT_WORKERS, default 64 here).
public enum QuoteServer {
    public static func serve(environment base: [String: String]) -> Never {
        var environment = base
        if (environment["DT_WORKERS"] ?? "").isEmpty { environment["DT_WORKERS"] = "64" }
        let service = Service(Topology.quoteServer, environment: environment)
        let config = service.config

        let desk = QuoteDesk(
            seed: seed(config.string("DT_QUOTE_SEED", default: "")),
            secret: config.string("DT_QUOTE_SECRET", default: ""),
            delayMillis: config.int("DT_QUOTE_DELAY_MS", default: 0))
        QuoteRoutes.install(on: service.router, desk: desk)

        let tcp = LineProtocolServer(desk: desk, logger: service.logger)
        do {
            try tcp.start(
                host: config.host, port: config.int("DT_QUOTE_TCP_PORT", default: 4444),
                threads: config.int("DT_QUOTE_TCP_THREADS", default: config.int("DT_WORKERS", default: 64)))
            service.logger.info(
                "line protocol listening",
                metadata: [
                    "port": .stringConvertible(tcp.port), "delayMs": .stringConvertible(desk.delay),
                    "seeded": .stringConvertible(desk.seeded),
                ])
        } catch {
            service.logger.error("tcp start failed", error: error)
            exit(1)
        }
        service.runForever()
    }

    /// DT_QUOTE_SEED: a number, or any text hashed to one; empty means a random walk per process.
    static func seed(_ text: String) -> UInt64? {
        text.isEmpty ? nil : (UInt64(text) ?? PriceWalk.fnv1a(text))
    }
}
