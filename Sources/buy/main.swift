import ClassicCore
import ServiceCore

// buy: BUY, COMMIT_BUY, CANCEL_BUY, SET_BUY_AMOUNT, SET_BUY_TRIGGER, CANCEL_SET_BUY under /classic/.
let service = Service(Topology.buy, defaultWorkers: 64)
let engine = ClassicRuntime.prepare(service)
ClassicHTTP.register(
    service.router, engine: engine, commands: ClassicCommandName.buySide,
    flights: ClassicRuntime.flights(service, engine: engine))
service.runForever()
