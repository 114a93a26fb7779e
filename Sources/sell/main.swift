import ClassicCore
import ServiceCore

// sell: SELL, COMMIT_SELL, CANCEL_SELL, SET_SELL_AMOUNT, SET_SELL_TRIGGER, CANCEL_SET_SELL under /classic/.
let service = Service(Topology.sell, defaultWorkers: 64)
let engine = ClassicRuntime.prepare(service)
ClassicHTTP.register(
    service.router, engine: engine, commands: ClassicCommandName.sellSide,
    flights: ClassicRuntime.flights(service, engine: engine))
service.runForever()
