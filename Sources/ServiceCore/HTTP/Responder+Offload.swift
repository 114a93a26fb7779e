/// A closure made on a loop and run back on it from another thread. Only the loop ever calls
/// it, so what it captures (a `Responder`) stays loop-confined; hence unchecked.
struct LoopTask: @unchecked Sendable {
    let run: () -> Void
}

extension Responder {
    /// Runs `work` on the worker pool (for what must block, e.g. a PostgreSQL read after a cache
    /// miss) and then `then` back on this loop with its result. A full pool gives `then` an
    /// `HTTPError(503)` at once.
    public func offload<T: Sendable>(
        _ work: @escaping @Sendable (WorkerContext) throws -> T,
        then: @escaping (Result<T, any Error>) -> Void
    ) {
        let loop = self.loop
        let slot = ResultSlot<T>()
        let resume = LoopTask { if let r = slot.take() { then(r) } }
        let accepted = loop.server.pool.submit { ctx in
            slot.put(Result { try work(ctx) })
            loop.runOnLoop(resume)
        }
        if !accepted { then(.failure(HTTPError(503, "server busy, try again"))) }
    }

    /// Answers with the JSON error a thrown `error` maps to (as for blocking handlers).
    public func fail(_ error: any Error) {
        respond(HTTPResponse.forError(error, route: route.name, logger: loop.server.logger))
    }
}

/// Hands a worker's result to the loop: written once by the worker before `runOnLoop`, whose
/// lock orders it before the loop's read.
private final class ResultSlot<T: Sendable>: @unchecked Sendable {
    private var value: Result<T, any Error>?
    func put(_ r: Result<T, any Error>) { value = r }
    func take() -> Result<T, any Error>? {
        defer { value = nil }
        return value
    }
}

/// A request parked until something another thread waits for arrives (e.g. a quote): that
/// thread may only `resume` it; the responder itself is touched on its loop alone, which is
/// why the handle may cross threads (hence unchecked). No worker is held while it is parked.
public struct ParkedResponder: @unchecked Sendable {
    private let responder: Responder

    public init(_ responder: Responder) { self.responder = responder }

    /// From any thread: back on the loop, runs `work` on the pool and `then` on the loop (as
    /// `Responder.offload`, whose full-pool 503 then also arrives on the loop).
    public func resume<T: Sendable>(
        _ work: @escaping @Sendable (WorkerContext) throws -> T,
        then: @escaping (Responder, Result<T, any Error>) -> Void
    ) {
        let r = responder
        r.loop.runOnLoop(LoopTask { r.offload(work) { then(r, $0) } })
    }
}
