import ClassicCore
import ServiceCore

// trigger-worker: polls every symbol with an armed trigger through the shared quote cache every
// DT_TRIGGER_POLL_MS (default 60000) with DT_TRIGGER_THREADS threads, and fires triggers whose
// price condition holds. (Fresh quotes obtained by buy/sell/user-utilities are checked by
// those services themselves, right after the command that got the quote commits.)
let service = Service(Topology.triggerWorker)
let engine = ClassicRuntime.prepare(service)
let poller = TriggerPoller(engine: engine, config: service.config, logger: service.logger)
poller.start()
service.router.get("/trigger-stats", mode: .inline) { _, _ in
    let s = poller.snapshot
    return .json(
        .object([
            ("success", .bool(true)),
            (
                "data",
                .object([
                    ("rounds", .int(s.rounds)), ("symbolsPolled", .int(s.polled)), ("fired", .int(s.fired)),
                    ("failures", .int(s.failures)),
                ])
            ),
        ]))
}
ClassicHTTP.registerStats(service.router)
service.runForever()
