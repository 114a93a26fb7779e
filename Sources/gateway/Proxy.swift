import ServiceCore

/// Forwards one request to an instance of its upstream group and maps transport failures to JSON
/// errors: all breakers open → 503, timeout → 504, nothing reachable → 502.
///
/// Breaker accounting: connect errors, timeouts, broken or malformed responses and 5xx answers
/// count as failures — except 503, which a live instance sends on purpose (its worker queue is
/// full, or the classic QUOTE_UNAVAILABLE) and which therefore counts as neither.
/// A request is retried on another instance only after a connect error: it never reached the first.
struct Proxy: Sendable {
    let pools: [UpstreamGroup: UpstreamPool]
    let timeoutMillis: Int
    let logger: Logger
    /// Signs every forwarded request (GatewayProof): services act on x-user-* only with a valid proof.
    let client: HTTPClient

    /// Request headers passed on besides the identity ones (which the gateway sets itself, so
    /// anything a client sends as x-user-* or x-gateway-proof is never forwarded).
    static let forwardedRequestHeaders: Set<String> = ["content-type", "accept", "idempotency-key"]
    /// Response headers the server writes itself, or that describe the upstream hop only.
    static let droppedResponseHeaders: Set<String> = ["connection", "keep-alive", "transfer-encoding", "content-length", "date",
                                                      "x-request-id"]

    func forward(_ request: HTTPRequest, group: UpstreamGroup, identity: Identity?, clientIP: String, requestId: String) -> HTTPResponse {
        guard let pool = pools[group], !pool.instances.isEmpty else {
            return .error(503, "service unavailable: no \(group.rawValue) instances configured")
        }
        var headers: [(String, String)] = []
        for h in request.headers where Self.forwardedRequestHeaders.contains(h.name) { headers.append((h.name, h.value)) }
        if let id = identity {
            headers.append(("x-user-id", id.userId))
            headers.append(("x-user-name", id.userName))
            headers.append(("x-user-role", id.role))
        }
        headers.append(("x-request-id", requestId))
        headers.append(("x-real-ip", clientIP))
        let target = request.query.isEmpty ? request.path : request.path + "?" + request.query

        var tried = Set<Int>()
        var connectFailed = false
        while let index = pool.acquire(excluding: tried) {
            tried.insert(index)
            let instance = pool.instances[index]
            instance.inFlight.add(1, ordering: .relaxed)
            instance.requests.add(1, ordering: .relaxed)
            let result: Result<ClientResponse, HTTPClientError>
            do {
                result = .success(try client.request(instance.endpoint, method: request.method, path: target,
                                                                headers: headers, body: request.body, timeoutMillis: timeoutMillis,
                                                                spoolAbove: Self.spoolAbove))
            } catch {
                result = .failure(error)
            }
            instance.inFlight.subtract(1, ordering: .relaxed)

            switch result {
            case .success(let upstream):
                if upstream.status >= 500 && upstream.status != 503 {
                    fail(instance, group, "status \(upstream.status)")
                } else if upstream.status == 503 {
                    instance.breaker.recordNeutral()
                } else if instance.breaker.recordSuccess() {
                    logger.info("breaker closed", [("upstream", .string(group.rawValue)), ("endpoint", .string(instance.endpoint.description))])
                }
                var out: [(name: String, value: String)] = []
                for h in upstream.headers where !Self.droppedResponseHeaders.contains(h.name) { out.append(h) }
                var response = HTTPResponse(status: upstream.status, headers: out, body: upstream.body)
                response.bodyFile = upstream.bodyFile   // large bodies (DUMPLOG) relayed from disk
                return response
            case .failure(.connect(let message)):
                fail(instance, group, message)
                connectFailed = true
                continue
            case .failure(.timeout):
                fail(instance, group, "timed out")
                return .error(504, "gateway timeout: \(group.rawValue) service did not answer in time")
            case .failure(let other):
                fail(instance, group, other.description)
                return .error(502, "bad gateway: \(group.rawValue) service failed")
            }
        }
        if connectFailed {
            return .error(502, "bad gateway: no \(group.rawValue) instance reachable")
        }
        return .error(503, "service unavailable: every \(group.rawValue) instance is failing")
    }

    /// Upstream bodies above this size are spooled to a temporary file and streamed to the
    /// client, so a whole-system DUMPLOG does not have to fit in the gateway's memory.
    static let spoolAbove = 8 * 1024 * 1024

    private func fail(_ instance: UpstreamInstance, _ group: UpstreamGroup, _ reason: String) {
        instance.failures.add(1, ordering: .relaxed)
        if instance.breaker.recordFailure() {
            logger.warn("breaker opened", [("upstream", .string(group.rawValue)), ("endpoint", .string(instance.endpoint.description)),
                                           ("reason", .string(reason))])
        }
    }
}
