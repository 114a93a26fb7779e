import ServiceCore

/// Routing between engine shards (docs/sharding.md). The gateway spreads engine requests over
/// all shards like any replicated service; the shard that receives a request naming a stock (or
/// an order, which names its stock in the ledger) hands it to the owner when that is not itself.
/// Everything else is answered from the ledger by whichever shard got it.
extension PlatformHTTP {
    /// The owner's answer when another shard owns `stock` (or the stock of `order`); nil: answer here.
    static func routed(
        _ request: HTTPRequest, _ ctx: WorkerContext, _ shards: ShardForwarder, stock: Int64? = nil,
        order: Int64? = nil
    ) throws -> HTTPResponse? {
        guard shards.map.isSharded, !ShardForwarder.isForwarded(request) else { return nil }
        let db = try ctx.postgres()
        let owner: Int?
        if let stock {
            owner = try shards.map.ownerOfStock(stock, db)
        } else if let order {
            owner = try shards.map.ownerOfOrder(order, db)
        } else {
            owner = nil
        }
        guard let k = shards.target(request, owner: owner) else { return nil }
        return shards.forward(request, to: k)
    }

    /// getStockPrices over every shard: this shard's board plus each peer's, in stock id order.
    /// A shard that does not answer is left out (its stocks cannot trade meanwhile either).
    static func mergedPrices(_ engine: MatchingEngine, _ shards: ShardForwarder) -> HTTPResponse {
        var entries = engine.prices.entries
        for (_, reply) in shards.others("GET", internalPricesPath) {
            guard let reply, reply.status == 200, let list = (try? reply.json())?["entries"]?.arrayValue else {
                continue
            }
            for e in list {
                guard let id = e["stock_id"]?.int64Value, let name = e["name"]?.stringValue,
                    let cents = e["cents"]?.int64Value
                else { continue }
                entries.append(PriceBoard.Entry(stockId: id, name: name, priceCents: cents))
            }
        }
        entries.sort { $0.stockId < $1.stockId }
        return HTTPResponse(
            status: 200, headers: [("Content-Type", "application/json")], body: PriceBoard.render(entries))
    }

    static let internalPricesPath = "/internal/prices"

    /// One shard's own board, for `mergedPrices` on its peers (loopback, signed like every call).
    static func ownPrices(_ engine: MatchingEngine) -> HTTPResponse {
        .json(
            .object([
                (
                    "entries",
                    .array(
                        engine.prices.entries.map {
                            .object([
                                ("stock_id", .int($0.stockId)), ("name", .string($0.name)),
                                ("cents", .int($0.priceCents)),
                            ])
                        })
                )
            ]))
    }

    /// Test reset: this shard, then (unless this is the fanned-out call) every other shard.
    static func resetAll(_ request: HTTPRequest, _ engine: MatchingEngine, _ shards: ShardForwarder) -> HTTPResponse {
        let own = engine.reset()
        guard own == .ok else { return own.response }
        guard shards.map.isSharded, !ShardForwarder.isForwarded(request) else { return own.response }
        for (k, reply) in shards.others("POST", "/internal/reset", timeoutMillis: 60_000) where reply?.status != 200 {
            return .error(503, "engine shard \(k) did not reset (status \(reply.map { String($0.status) } ?? "none"))")
        }
        return own.response
    }
}
