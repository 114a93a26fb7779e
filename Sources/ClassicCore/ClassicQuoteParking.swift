import Ledger
import ServiceCore

/// QUOTE/BUY/SELL as async routes: the first pass (parse, number check, precheck, cache lookup)
/// runs on a worker; on a cache miss the worker returns and the command waits in `QuoteFlights`
/// holding no thread; when the price arrives it runs again on a worker (precheck again, then its
/// transaction) and the answer goes out from the loop. A hit answers from the first pass as before.
enum ClassicQuoteParking {
    static func handle(
        _ command: ClassicCommandName, _ request: HTTPRequest, _ responder: Responder, _ engine: ClassicEngine,
        _ flights: QuoteFlights
    ) {
        responder.offload(
            { ctx in try ClassicHTTP.handle(command, request, ctx, engine, parkOnMiss: true) },
            then: { result in
                switch result {
                case .success(.answer(let response)):
                    responder.respond(response)
                case .success(.parked(let miss, let req)):
                    park(miss, req, ParkedResponder(responder), engine, flights)
                case .failure(let error):
                    responder.fail(error)
                }
            })
    }

    private static func park(
        _ miss: QuoteMiss, _ req: ClassicRequest, _ parked: ParkedResponder, _ engine: ClassicEngine,
        _ flights: QuoteFlights
    ) {
        let waiter: QuoteFlights.Waiter = { lookup in
            parked.resume(
                { ctx in try ClassicHTTP.resume(req, miss.resume(with: lookup), ctx, engine) },
                then: { r, result in
                    switch result {
                    case .success(let response): r.respond(response)
                    case .failure(let error): r.fail(error)
                    }
                })
        }
        if !flights.wait(symbol: miss.symbol, user: miss.user, waiter) {
            // Too many commands wait already: this one fails now, logged like any unavailable quote.
            waiter(.failure(ClassicError(.QUOTE_UNAVAILABLE, "too many commands are waiting for quotes; try again")))
        }
    }
}
