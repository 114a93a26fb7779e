import ServiceCore

/// Forwards requests to an instance of their upstream group on the event loop (`ProxyExchange`)
/// and maps transport failures to JSON errors: all breakers open → 503, timeout → 504, nothing
/// reachable or a broken answer → 502, the group's bulkhead full → 503 with `Retry-After`.
///
/// Breaker accounting: connect errors, timeouts, broken or malformed responses and 5xx answers
/// count as failures — except 503, which a live instance sends on purpose (its worker queue is
/// full, or the classic QUOTE_UNAVAILABLE) and which therefore counts as neither.
public struct Proxy: Sendable {
    let pools: [UpstreamGroup: UpstreamPool]
    let bulkheads: [UpstreamGroup: Bulkhead]
    let timeoutMillis: Int
    let logger: Logger
    /// Signs every forwarded request (GatewayProof): services act on x-user-* only with a valid proof.
    let signer: GatewayProof

    /// Request headers passed on besides the identity ones (which the gateway sets itself, so
    /// anything a client sends as x-user-* or x-gateway-proof is never forwarded).
    /// `last-event-id`: where a reconnecting EventSource resumes the event stream.
    static let forwardedRequestHeaders: Set<String> = ["content-type", "accept", "idempotency-key", "last-event-id"]
    /// Response headers the server writes itself, or that describe the upstream hop only.
    static let droppedResponseHeaders: Set<String> = [
        "connection", "keep-alive", "transfer-encoding", "content-length", "date",
        "x-request-id",
    ]

    public init(
        pools: [UpstreamGroup: UpstreamPool], bulkheads: [UpstreamGroup: Bulkhead], timeoutMillis: Int, logger: Logger,
        signer: GatewayProof
    ) {
        self.pools = pools
        self.bulkheads = bulkheads
        self.timeoutMillis = timeoutMillis
        self.logger = logger
        self.signer = signer
    }

    /// Starts forwarding; the answer goes to `responder` (at once when the group cannot take it).
    func forward(
        _ request: HTTPRequest, group: UpstreamGroup, identity: Identity?, clientIP: String, requestId: String,
        responder: Responder
    ) {
        guard let pool = pools[group], !pool.instances.isEmpty, let bulkhead = bulkheads[group] else {
            return responder.respond(
                Self.tagged(.error(503, "service unavailable: no \(group.rawValue) instances configured"), requestId))
        }
        let upstream = UpstreamRequest(
            request, identity: identity, clientIP: clientIP, requestId: requestId, signer: signer)
        guard bulkhead.tryEnter(bytes: upstream.bytes) else {
            let busy = HTTPResponse.error(
                503, "service busy: too many \(group.rawValue) requests in progress, retry shortly")
            return responder.respond(Self.tagged(busy.retryAfter(), requestId))
        }
        let plan = ForwardPlan(
            request: upstream, group: group, pool: pool, bulkhead: bulkhead, timeoutMillis: timeoutMillis,
            requestId: requestId, logger: logger)
        ProxyExchange(plan: plan, responder: responder, loop: ProxyLoop.of(responder)).start()
    }

    static func tagged(_ response: HTTPResponse, _ requestId: String) -> HTTPResponse {
        var r = response
        r.headers.append(("x-request-id", requestId))
        return r
    }
}

/// Everything one exchange needs to know about where and how to forward.
struct ForwardPlan {
    let request: UpstreamRequest
    let group: UpstreamGroup
    let pool: UpstreamPool
    let bulkhead: Bulkhead
    let timeoutMillis: Int
    let requestId: String
    let logger: Logger

    /// May go out again after a pooled socket broke before any answer: safe methods, and requests
    /// the services deduplicate by Idempotency-Key.
    var repeatable: Bool { request.isSafe || request.hasIdempotencyKey }

    func fail(_ instance: UpstreamInstance, _ reason: String) {
        instance.failures.add(1, ordering: .relaxed)
        if instance.breaker.recordFailure() {
            logger.warning(
                "breaker opened",
                metadata: [
                    "upstream": .string(group.rawValue), "endpoint": .string(instance.endpoint.description),
                    "reason": .string(reason),
                ])
        }
    }
}

/// The request as an upstream sees it: only the forwarded client headers, the gateway's own
/// identity headers and its proof over them.
struct UpstreamRequest {
    let method: String
    let target: String
    let headers: [(String, String)]
    let body: [UInt8]
    let isSafe: Bool
    let hasIdempotencyKey: Bool

    init(_ request: HTTPRequest, identity: Identity?, clientIP: String, requestId: String, signer: GatewayProof) {
        var headers: [(String, String)] = []
        headers.reserveCapacity(9)
        for h in request.headers where Proxy.forwardedRequestHeaders.contains(h.name) {
            headers.append((h.name, h.value))
        }
        if let id = identity {
            headers.append(("x-user-id", id.userId))
            headers.append(("x-user-name", id.userName))
            headers.append(("x-user-role", id.role))
        }
        headers.append(("x-request-id", requestId))
        headers.append(("x-real-ip", clientIP))
        method = request.method
        target = request.query.isEmpty ? request.path : request.path + "?" + request.query
        // The signed values are the ones just set (GatewayProof.signedHeaders order); client
        // copies of these headers and of the proof were never forwarded.
        let signed = [identity?.userId ?? "", identity?.userName ?? "", identity?.role ?? "", requestId, clientIP]
        headers.append((GatewayProof.header, signer.sign(method: method, target: target, signedValues: signed)))
        self.headers = headers
        body = request.body
        isSafe = method == "GET" || method == "HEAD"
        hasIdempotencyKey = request.header("idempotency-key") != nil
    }

    var isHead: Bool { method == "HEAD" }
    /// What the bulkhead counts: the body plus a nominal head.
    var bytes: Int { body.count + 1024 }

    func wire(for endpoint: Endpoint) -> [UInt8] {
        RequestWire.encode(method: method, target: target, host: endpoint, headers: headers, body: body)
    }
}
