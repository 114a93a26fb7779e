import Ledger
import ServiceCore

/// HTTP handlers of the matching engine. Identity comes from the gateway's `x-user-id` header
/// (services listen on loopback only). Writes that touch money or books go through the engine
/// thread; reads go straight to PostgreSQL (or the price board / wallet cache).
public enum PlatformHTTP {
    public static func register(on router: Router, engine: MatchingEngine, allowReset: Bool) {
        typealias E = PublicAPI.Engine

        router.post(E.createStock.path) { request, ctx in
            _ = try userId(request)
            let name = try Requests.createStock(request.body)
            let r = try ctx.postgres().query(
                "INSERT INTO stocks (name) VALUES ($1) ON CONFLICT (name) DO NOTHING RETURNING id", [name])
            guard let id = r.int64(0, 0) else { throw HTTPError(400, "stock \(name) already exists") }
            return ok(.object([("stock_id", .string(String(id)))]))
        }

        router.post(E.addStockToUser.path) { request, ctx in
            let user = try userId(request)
            let (stockId, quantity) = try Requests.addStockToUser(request.body)
            let db = try ctx.postgres()
            try db.transaction { tx in
                guard try tx.query("SELECT 1 FROM stocks WHERE id = $1", [stockId]).count == 1 else {
                    throw HTTPError(404, "unknown stock_id \(stockId)")
                }
                let r = try tx.query("""
                    INSERT INTO holdings (user_id, stock_id, quantity) VALUES ($1, $2, $3)
                    ON CONFLICT (user_id, stock_id) DO UPDATE SET quantity = holdings.quantity + EXCLUDED.quantity
                    WHERE holdings.quantity + holdings.reserved <= $4 - EXCLUDED.quantity
                    """, [user, stockId, quantity, Limits.maxShares])
                guard r.affectedRows == 1 else { throw HTTPError(400, "the holding would exceed \(Limits.maxShares) shares") }
                try LedgerOps.recordFlow(tx, userId: user, kind: "grant", stockId: stockId, shares: quantity)
            }
            return ok(.null)
        }

        router.get(E.getStockPrices.path, mode: .inline) { request, _ in
            _ = try userId(request)
            return HTTPResponse(status: 200, headers: [("Content-Type", "application/json")], body: engine.prices.responseBody)
        }

        router.get(E.getStockPortfolio.path) { request, ctx in
            ok(try PlatformReads.portfolio(ctx.postgres(), userId: userId(request)))
        }

        router.post(E.addMoneyToWallet.path) { request, _ in
            let user = try userId(request)
            return try answer(engine.deposit(userId: user, cents: Requests.addMoney(request.body)))
        }

        router.get(E.getWalletBalance.path) { request, ctx in
            let user = try userId(request)
            let cents: Int64
            if let cached = engine.walletCache.read({ try ctx.redis() }, userId: user) {
                cents = cached
            } else {
                cents = try PlatformReads.balanceCents(ctx.postgres(), userId: user)
                engine.walletCache.fill({ try ctx.redis() }, userId: user, cents: cents)
            }
            return ok(.object([("balance", Money.json(cents))]))
        }

        router.get(E.getWalletTransactions.path) { request, ctx in
            ok(try PlatformReads.walletTransactions(ctx.postgres(), userId: userId(request)))
        }

        router.get(E.getStockTransactions.path) { request, ctx in
            ok(try PlatformReads.stockTransactions(ctx.postgres(), userId: userId(request)))
        }

        router.post(E.placeStockOrder.path) { request, _ in
            let user = try userId(request)
            return try answer(engine.placeOrder(userId: user, Requests.placeOrder(request.body)))
        }

        router.post(E.cancelStockTransaction.path) { request, _ in
            let user = try userId(request)
            return try answer(engine.cancel(userId: user, stockTxId: Requests.cancel(request.body)))
        }

        router.post(E.amendStockOrder.path) { request, _ in
            let user = try userId(request)
            return try answer(engine.amend(userId: user, Requests.amendOrder(request.body)))
        }

        // Internal (loopback only; not routed by the gateway): the books as the engine holds them.
        router.get("/internal/books") { _, _ in ok(engine.books()) }
        if allowReset {
            // Tests truncate the ledger, then make the engine forget its books and cached balances.
            router.post("/internal/reset") { _, _ in try answer(engine.reset()) }
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

    static func answer(_ outcome: EngineOutcome) throws -> HTTPResponse {
        switch outcome {
        case .ok: return ok(.null)
        case let .failed(status, message): throw HTTPError(status, message)
        }
    }
}
