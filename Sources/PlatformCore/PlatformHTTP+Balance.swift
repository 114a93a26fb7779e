import ServiceCore

extension PlatformHTTP {
    /// getWalletBalance on the event loop: the cached value comes from Redis without a worker;
    /// only a miss (or Redis trouble) takes one, for the PostgreSQL read, and the fill goes back
    /// through the loop's connection.
    static func registerBalance(on router: Router, engine: MatchingEngine) {
        router.getAsync(PublicAPI.Engine.getWalletBalance.path) { request, responder in
            let user: Int64
            do { user = try userId(request) } catch {
                responder.fail(error)
                return
            }
            let cache = engine.walletCache
            let redis = responder.redis
            cache.read(redis, userId: user) { cached in
                if let cents = cached {
                    responder.respond(balance(cents))
                    return
                }
                responder.offload({ ctx in try PlatformReads.balanceCents(ctx.postgres(), userId: user) }) { result in
                    switch result {
                    case .success(let read):
                        responder.respond(balance(read.cents))
                        cache.fill(redis, userId: user, cents: read.cents, version: read.version)
                    case .failure(let error):
                        responder.fail(error)
                    }
                }
            }
        }
    }

    static func balance(_ cents: Int64) -> HTTPResponse {
        ok(.object([("balance", Money.json(cents))]))
    }
}
