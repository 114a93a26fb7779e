import ClassicCore
import ServiceCore

// user-utilities: ADD, QUOTE, DISPLAY_SUMMARY, DUMPLOG, RECENT_TRANSACTIONS under /classic/,
// plus GET /classic-stats (quote hits vs cache hits; internal, not routed by the gateway).
let service = Service(Topology.userUtilities, defaultWorkers: 64)
let engine = ClassicRuntime.prepare(service)
ClassicHTTP.register(
    service.router, engine: engine, commands: ClassicCommandName.utilities, recent: true,
    flights: ClassicRuntime.flights(service, engine: engine))
ClassicHTTP.registerStats(service.router)
service.runForever()
