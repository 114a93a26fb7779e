import ServiceCore

/// HTTP side of the simulator.
///   GET  /quote?symbol=SYM&user=USER → {"price","symbol","user","timestamp","cryptokey"}
///   GET  /verify?price=&symbol=&user=&timestamp=&cryptokey= → {"valid": bool} (for log checkers)
///   GET  /stats → hit counters;  POST /control {"delayMs": n} → changes the latency at run time
enum QuoteRoutes {
    static func install(on router: Router, desk: QuoteDesk) {
        router.get("/quote", mode: .blocking) { request, _ in
            let symbol = request.queryParam("symbol") ?? ""
            guard QuoteInput.isSymbol(Substring(symbol)) else {
                desk.badRequests.add(1, ordering: .relaxed)
                throw HTTPError(400, "symbol must be 1-3 upper-case letters, got '\(symbol.prefix(16))'")
            }
            let userText = request.queryParam("user") ?? ""
            let user = userText.isEmpty ? "NA" : userText
            guard QuoteInput.isUser(Substring(user)) else {
                desk.badRequests.add(1, ordering: .relaxed)
                throw HTTPError(400, "user must be 1-64 printable characters without spaces or commas")
            }
            desk.httpHits.add(1, ordering: .relaxed)
            desk.simulateLatency()
            return .json(desk.quote(symbol: symbol, user: user).json)
        }

        router.get("/verify", mode: .inline) { request, _ in
            guard let price = request.queryParam("price"), let symbol = request.queryParam("symbol"),
                let user = request.queryParam("user"), let ts = request.queryParam("timestamp").flatMap({ Int64($0) }),
                let key = request.queryParam("cryptokey")
            else {
                throw HTTPError(400, "need price, symbol, user, timestamp and cryptokey")
            }
            let valid = desk.signer.verify(price: price, symbol: symbol, user: user, timestamp: ts, cryptokey: key)
            return .json(.object([("valid", .bool(valid))]))
        }

        router.get("/stats", mode: .inline) { _, _ in .json(desk.statsJSON) }

        router.post("/control", mode: .inline) { request, _ in
            let body = try JSON.parse(request.body)
            guard let ms = body["delayMs"]?.int64Value, ms >= 0, ms <= 60_000 else {
                throw HTTPError(400, "body must be {\"delayMs\": 0..60000}")
            }
            desk.setDelay(Int(ms))
            return .json(desk.statsJSON)
        }
    }
}
