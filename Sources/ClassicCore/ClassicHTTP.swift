import Ledger
import ServiceCore

/// HTTP glue: `POST /classic/<COMMAND>` with {"userid","stock","amount","filename","transactionNum"}.
/// Success: 200 {"success":true,"data":{…}}; failure: {"success":false,"data":{"error":"CODE: …","code":"CODE"}}
/// with the status of the code. DUMPLOG answers 200 application/xml.
public enum ClassicHTTP {
    /// Adds one route per command, plus RECENT_TRANSACTIONS when `recent` is set.
    /// With `flights`, QUOTE/BUY/SELL park on a quote-cache miss instead of holding their worker
    /// for the quote server's latency (`ClassicQuoteParking`).
    public static func register(
        _ router: Router, engine: ClassicEngine, commands: [ClassicCommandName], recent: Bool = false,
        flights: QuoteFlights? = nil
    ) {
        for command in commands {
            if let flights, command == .QUOTE || command == .BUY || command == .SELL {
                router.addAsync("POST", "/classic/\(command.rawValue)") { request, responder in
                    ClassicQuoteParking.handle(command, request, responder, engine, flights)
                }
                continue
            }
            router.post("/classic/\(command.rawValue)", mode: .blocking) { request, ctx in
                try handle(command, request, ctx, engine)
            }
        }
        if recent {
            router.post("/classic/RECENT_TRANSACTIONS", mode: .blocking) { request, ctx in
                try recentTransactions(request, ctx)
            }
        }
    }

    /// The quote counters for tools: GET /classic-stats (internal; not routed by the gateway).
    public static func registerStats(_ router: Router) {
        router.get("/classic-stats", mode: .blocking) { _, ctx in
            let (hits, cacheHits) = try QuoteCache.counters(try ctx.redis())
            let total = hits + cacheHits
            let ratio = total == 0 ? "0.0000" : ratioText(cacheHits, total)
            return .json(
                .object([
                    ("success", .bool(true)),
                    (
                        "data",
                        .object([
                            ("quoteHits", .int(hits)), ("cacheHits", .int(cacheHits)),
                            ("cacheHitRatio", .number(ratio)),
                        ])
                    ),
                ]))
        }
    }

    static func ratioText(_ part: Int64, _ total: Int64) -> String {
        let scaled = part * 10_000 / total
        let frac = scaled % 10_000
        return "\(scaled / 10_000)." + String(repeating: "0", count: 4 - String(frac).count) + String(frac)
    }

    public static func errorResponse(_ e: ClassicError) -> HTTPResponse {
        .json(
            .object([
                ("success", .bool(false)),
                ("data", .object([("error", .string(e.message)), ("code", .string(e.code.rawValue))])),
            ]),
            status: e.code.httpStatus)
    }

    public static func success(_ data: JSON) -> HTTPResponse {
        .json(.object([("success", .bool(true)), ("data", data)]))
    }

    /// The caller as the gateway forwarded it: the verified numeric id and the token's name.
    struct Caller {
        let id: Int64
        let name: String
        let isAdmin: Bool
    }

    static func caller(_ request: HTTPRequest) throws -> Caller {
        guard let idText = request.header("x-user-id"), let id = Int64(idText), id > 0,
            let name = request.header("x-user-name"), UserName.isValid(name)
        else {
            throw ClassicError(.FORBIDDEN, "no caller identity (call through the gateway)")
        }
        return Caller(id: id, name: name, isAdmin: request.header("x-user-role") == "admin")
    }

    /// Parses the body into a request; nil userid defaults to the caller (except for DUMPLOG,
    /// where no userid means the whole-system form). A userid must follow the user-name rule and,
    /// unless the caller is the admin, be the caller's own name byte for byte; the command then
    /// acts on the caller's verified id (`actingUserId`), never on a name alone.
    static func parse(_ command: ClassicCommandName, _ request: HTTPRequest, _ who: Caller) throws -> ClassicRequest {
        let body: JSON
        if request.body.isEmpty {
            body = .object([])
        } else {
            do { body = try JSON.parse(request.body) } catch {
                throw ClassicError(.INVALID_ARGUMENT, "body is not JSON: \(error)")
            }
        }
        guard case .object = body else { throw ClassicError(.INVALID_ARGUMENT, "body must be a JSON object") }
        var req = ClassicRequest(command)
        req.userid = text(body["userid"]).map { $0.trimmingSpaces() }
        // Fields a command does not take are ignored, so its log entries never show a `funds` or
        // `stockSymbol` it had no use for (a checker re-running the log would read them).
        req.stock = command.takesStock ? text(body["stock"]) : nil
        req.amount = command.takesAmount ? text(body["amount"]) : nil
        req.filename = try AuditFields.filename(text(body["filename"]), command: command)
        if let t = body["transactionNum"], !t.isNull {
            guard let n = t.int64Value ?? t.stringValue.flatMap({ Int64($0) }), n >= 1,
                n <= AuditFields.maxTransactionNum
            else {
                throw ClassicError(
                    .INVALID_ARGUMENT, "transactionNum must be an integer from 1 to \(AuditFields.maxTransactionNum)")
            }
            req.transactionNum = n
        }
        if let u = req.userid, !u.isEmpty {
            guard UserName.isValid(u) else {
                throw ClassicError(.INVALID_ARGUMENT, "userid must be \(UserName.ruleText)")
            }
        } else if command != .DUMPLOG {
            req.userid = who.name
        } else {
            req.userid = nil
        }
        if let u = req.userid {
            if UserName.same(u, who.name) {
                req.actingUserId = who.id
            } else if !who.isAdmin {
                throw ClassicError(.FORBIDDEN, "caller '\(who.name)' may not act for '\(u)'")
            }
        }
        req.callerId = who.id
        return req
    }

    /// A string or number field as text (amounts may come either way); nil when absent.
    static func text(_ j: JSON?) -> String? {
        switch j {
        case .string(let s)?: return s
        case .number(let n)?: return n
        default: return nil
        }
    }

    static func handle(
        _ command: ClassicCommandName, _ request: HTTPRequest, _ ctx: WorkerContext,
        _ engine: ClassicEngine
    ) throws -> HTTPResponse {
        switch try handle(command, request, ctx, engine, parkOnMiss: false) {
        case .answer(let r): return r
        case .parked(let miss, _): throw LedgerInvariantError("command parked on \(miss.symbol) without parking")
        }
    }

    /// What the first pass of a command came to: an answer, or a quote-cache miss to park on.
    enum Step: Sendable {
        case answer(HTTPResponse)
        case parked(QuoteMiss, ClassicRequest)
    }

    /// `parkOnMiss` applies to requests without an Idempotency-Key only: a keyed request holds its
    /// key's session lock on this worker's connection, so it must finish on this worker.
    static func handle(
        _ command: ClassicCommandName, _ request: HTTPRequest, _ ctx: WorkerContext,
        _ engine: ClassicEngine, parkOnMiss: Bool
    ) throws -> Step {
        let req: ClassicRequest
        let who: Caller
        do {
            who = try caller(request)
            req = try parse(command, request, who)
        } catch let e as ClassicError {
            return .answer(errorResponse(e)) // not a command of any user yet: nothing is logged
        } catch {
            return .answer(errorResponse(ClassicError(.INVALID_ARGUMENT, "\(error)")))
        }
        let db = try ctx.postgres()
        do {
            // DUMPLOG moves no money and streams a fresh file each time: it ignores the key.
            guard command != .DUMPLOG else { return .answer(try run(command, req, who, db, try? ctx.redis(), engine)) }
            if parkOnMiss && request.header(Idempotency.header) == nil {
                do {
                    return .answer(try run(command, req, who, db, try? ctx.redis(), engine, parkOnMiss: true))
                } catch let miss as QuoteMiss {
                    return .parked(miss, req)
                }
            }
            return .answer(
                try Idempotency.perform(request, userId: who.id, db: db) { key in
                    var keyed = req
                    keyed.key = key
                    return try run(command, keyed, who, db, try? ctx.redis(), engine)
                })
        } catch let e as ClassicError {
            return .answer(errorResponse(e)) // refused before the engine logged anything
        }
    }

    /// Runs a parked command again with its quote (or the fetch's failure).
    static func resume(
        _ req: ClassicRequest, _ resume: QuoteResume, _ ctx: WorkerContext, _ engine: ClassicEngine
    ) throws -> HTTPResponse {
        do {
            let outcome = try engine.execute(req, db: try ctx.postgres(), redis: try? ctx.redis(), resume: resume)
            switch outcome.result {
            case .success(let data): return success(data)
            case .failure(let e): return errorResponse(e)
            }
        } catch let e as ClassicError {
            return errorResponse(e)
        }
    }

    private static func run(
        _ command: ClassicCommandName, _ req: ClassicRequest, _ who: Caller, _ db: PGConnection,
        _ redis: RedisConnection?,
        _ engine: ClassicEngine, parkOnMiss: Bool = false
    ) throws -> HTTPResponse {
        if command == .DUMPLOG {
            switch try engine.beginDump(req, callerName: who.name, callerIsAdmin: who.isAdmin, db: db) {
            case .failure(let e):
                return errorResponse(e)
            case .success(let plan):
                // The XML goes to a temporary file page by page and the server streams it from
                // there: neither the rows nor the (possibly hundreds of MB of) text sit in memory.
                let path = try DumpFile.write(plan, db: db)
                var headers: [(name: String, value: String)] = [("Content-Type", "application/xml")]
                if let f = plan.filename?.split(separator: "/").last, !f.isEmpty {
                    let safe = f.filter { $0.isLetter || $0.isNumber || $0 == "." || $0 == "_" || $0 == "-" }
                    if !safe.isEmpty { headers.append(("Content-Disposition", "attachment; filename=\"\(safe)\"")) }
                }
                headers.append(("X-Transaction-Num", String(plan.transactionNum)))
                return try HTTPResponse.file(path, deleteAfterSend: true, headers: headers)
            }
        }
        let outcome = try engine.execute(req, db: db, redis: redis, parkOnMiss: parkOnMiss)
        switch outcome.result {
        case .success(let data): return success(data)
        case .failure(let e): return errorResponse(e)
        }
    }

    /// RECENT_TRANSACTIONS {"userid","limit"}: the user's newest audit entries, newest first.
    /// A query, not one of the 16 logged commands.
    static func recentTransactions(_ request: HTTPRequest, _ ctx: WorkerContext) throws -> HTTPResponse {
        let who: Caller
        let req: ClassicRequest
        var limit = 20
        do {
            who = try caller(request)
            req = try parse(.DISPLAY_SUMMARY, request, who)
            if !request.body.isEmpty, let j = try? JSON.parse(request.body), let l = j["limit"], !l.isNull {
                guard let n = l.int64Value, n >= 1, n <= 1000 else {
                    throw ClassicError(.INVALID_ARGUMENT, "limit must be an integer from 1 to 1000")
                }
                limit = Int(n)
            }
        } catch let e as ClassicError {
            return errorResponse(e)
        } catch {
            return errorResponse(ClassicError(.INVALID_ARGUMENT, "\(error)"))
        }
        guard let user = ClassicInput.userid(req.userid) else {
            return errorResponse(ClassicError(.INVALID_ARGUMENT, "userid is missing"))
        }
        let entries = try AuditReader.recent(try ctx.postgres(), username: user, limit: limit)
        return success(.object([("userid", .string(user)), ("entries", .array(entries.map(\.json)))]))
    }
}
