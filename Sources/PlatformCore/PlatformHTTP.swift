import Ledger
import ServiceCore
import StreamCore

/// HTTP handlers of the matching engine. Identity comes from the gateway's `x-user-id` header
/// (services listen on loopback only). Writes that touch money or books go through the engine
/// thread; reads go straight to PostgreSQL (or the price board / wallet cache).
public enum PlatformHTTP {
    public static func register(
        on router: Router, engine: MatchingEngine, allowReset: Bool, tickets: StreamTicket,
        shards: ShardForwarder = ShardForwarder(map: ShardMap(), proof: nil)
    ) {
        typealias E = PublicAPI.Engine
        // Sharded, the per-stock reads may forward (a blocking call): run them on a worker.
        let readMode: HandlerMode = shards.map.isSharded ? .blocking : .inline

        router.get(E.getDepth.path, mode: readMode) { request, ctx in
            _ = try userId(request)
            guard let text = request.queryParam("stock_id"), let id = Int64(text), id > 0 else {
                throw HTTPError(400, "stock_id must be a stock id")
            }
            if let forwarded = try routed(request, ctx, shards, stock: id) { return forwarded }
            guard let body = engine.depth.responseBody(id) else { throw HTTPError(404, "unknown stock_id \(text)") }
            return HTTPResponse(status: 200, headers: [("Content-Type", "application/json")], body: body)
        }

        router.post(E.streamTicket.path, mode: .inline) { request, _ in
            let user = try userId(request)
            let ticket = tickets.issue(userId: user, nowMillis: Clock.wallMillis())
            return ok(.object([("ticket", .string(ticket)), ("expires_in", .int(StreamTicket.lifetimeSeconds))]))
        }

        router.post(E.createStock.path) { request, ctx in
            let user = try userId(request)
            let name = try Requests.createStock(request.body)
            let db = try ctx.postgres()
            return try Idempotency.perform(request, userId: user, db: db) { key in
                try db.transaction { tx in
                    // No row of this write names the user, so no foreign key would refuse a token
                    // whose user the ledger does not have.
                    guard try tx.query("SELECT 1 FROM users WHERE id = $1", [user]).count == 1 else {
                        throw HTTPError(404, HTTPResponse.unknownUser)
                    }
                    let r = try tx.query(
                        "INSERT INTO stocks (name) VALUES ($1) ON CONFLICT (name) DO NOTHING RETURNING id", [name])
                    guard let id = r.int64(0, 0) else { throw HTTPError(400, "stock \(name) already exists") }
                    // Its engine shard, fixed for good (ShardMap); 0 when there is one engine.
                    try tx.query(
                        "UPDATE stocks SET shard = $2 WHERE id = $1", [id, shards.map.nextAssignment()])
                    let response = ok(.object([("stock_id", .string(String(id)))]))
                    try key?.record(tx, response)
                    return response
                }
            }
        }

        router.post(E.addStockToUser.path) { request, ctx in
            let user = try userId(request)
            let (stockId, quantity) = try Requests.addStockToUser(request.body)
            let db = try ctx.postgres()
            return try Idempotency.perform(request, userId: user, db: db) { key in
                try db.transaction { tx in
                    guard try tx.query("SELECT 1 FROM stocks WHERE id = $1", [stockId]).count == 1 else {
                        throw HTTPError(404, "unknown stock_id \(stockId)")
                    }
                    guard try LedgerTx(tx).grantShares(user, stockId: stockId, shares: quantity) else {
                        throw HTTPError(400, "the holding would exceed \(Limits.maxShares) shares")
                    }
                    let response = ok(.null)
                    try key?.record(tx, response)
                    return response
                }
            }
        }

        router.get(E.getStockPrices.path, mode: readMode) { request, _ in
            _ = try userId(request)
            if shards.map.isSharded { return mergedPrices(engine, shards) }
            return HTTPResponse(
                status: 200, headers: [("Content-Type", "application/json")], body: engine.prices.responseBody)
        }

        router.get(E.getStockPortfolio.path) { request, ctx in
            ok(try PlatformReads.portfolio(ctx.postgres(), userId: userId(request)))
        }

        router.post(E.addMoneyToWallet.path) { request, ctx in
            let user = try userId(request)
            let cents = try Requests.addMoney(request.body)
            return try keyed(request, ctx, user) { engine.deposit(userId: user, cents: cents, key: $0) }
        }

        registerBalance(on: router, engine: engine)

        router.get(E.getWalletTransactions.path) { request, ctx in
            ok(
                try PlatformReads.walletTransactions(
                    ctx.postgres(), userId: userId(request), byTime: shards.map.isSharded))
        }

        router.get(E.getStockTransactions.path) { request, ctx in
            ok(
                try PlatformReads.stockTransactions(
                    ctx.postgres(), userId: userId(request), byTime: shards.map.isSharded))
        }

        router.post(E.placeStockOrder.path) { request, ctx in
            let user = try userId(request)
            let order = try Requests.placeOrder(request.body)
            if let forwarded = try routed(request, ctx, shards, stock: order.stockId) { return forwarded }
            return try keyed(request, ctx, user) { engine.placeOrder(userId: user, order, key: $0) }
        }

        router.post(E.cancelStockTransaction.path) { request, ctx in
            let user = try userId(request)
            let txId = try Requests.cancel(request.body)
            if let forwarded = try routed(request, ctx, shards, order: txId) { return forwarded }
            return try keyed(request, ctx, user) { engine.cancel(userId: user, stockTxId: txId, key: $0) }
        }

        router.post(E.amendStockOrder.path) { request, ctx in
            let user = try userId(request)
            let amend = try Requests.amendOrder(request.body)
            if let forwarded = try routed(request, ctx, shards, order: amend.stockTxId) { return forwarded }
            return try keyed(request, ctx, user) { engine.amend(userId: user, amend, key: $0) }
        }

        // Internal (loopback only; not routed by the gateway): the books as the engine holds them.
        router.get("/internal/books") { _, _ in ok(engine.books()) }
        router.get(internalPricesPath, mode: .inline) { _, _ in ownPrices(engine) }
        if allowReset {
            // Tests truncate the ledger, then make every shard forget its books and cached balances.
            router.post("/internal/reset") { request, _ in resetAll(request, engine, shards) }
        }
    }

    /// The caller's users.id, set by the gateway after verifying the token.
    static func userId(_ request: HTTPRequest) throws -> Int64 {
        guard let text = request.header("x-user-id"), let id = Int64(text), id > 0 else {
            throw HTTPError(401, "missing or invalid token")
        }
        return id
    }

    static func ok(_ data: JSON) -> HTTPResponse {
        .json(.object([("success", .bool(true)), ("data", data)]))
    }

    static func answer(_ outcome: EngineOutcome) throws -> HTTPResponse { outcome.response }

    /// An engine write under the request's Idempotency-Key (if any): the engine stores the
    /// outcome in the command's batch; this worker holds the key's in-flight lock meanwhile.
    static func keyed(
        _ request: HTTPRequest, _ ctx: WorkerContext, _ user: Int64,
        _ run: (IdempotencyTicket?) -> EngineOutcome
    ) throws -> HTTPResponse {
        let db = try ctx.postgres()
        switch try Idempotency.start(request, userId: user, db: db) {
        case .answer(let response): return response
        case .none: return run(nil).response
        case .execute(let key):
            defer { Idempotency.finish(key, db: db) }
            return run(key).response
        }
    }
}
