import ServiceCore

/// The request pipeline: route (404) → per-IP bucket (429) → token (401) → per-user bucket (429) → proxy.
/// Every answer carries the request's x-request-id.
struct GatewayHandler: Sendable {
    let authenticator: TokenAuthenticator
    let ipLimiter: RateLimiter
    let userLimiter: RateLimiter
    let proxy: Proxy
    let requestIds: RequestIds

    func handle(_ request: HTTPRequest) -> HTTPResponse {
        let requestId = requestIds.next()
        var response = process(request, requestId: requestId)
        response.headers.append(("x-request-id", requestId))
        return response
    }

    private func process(_ request: HTTPRequest, requestId: String) -> HTTPResponse {
        guard let route = RouteTable.decide(request.path) else {
            return .error(404, "no such endpoint: \(request.method) \(request.path)")
        }
        let clientIP = ClientAddress.of(request)
        if case .limited(let seconds) = ipLimiter.take(clientIP) {
            return Self.tooMany(seconds)
        }
        var identity: Identity? = nil
        if !route.isPublic {
            switch authenticator.authenticate(request) {
            case .failure(let f):
                return .error(401, f.message)
            case .success(let id):
                if case .limited(let seconds) = userLimiter.take(id.userId) { return Self.tooMany(seconds) }
                identity = id
            }
        }
        return proxy.forward(request, group: route.group, identity: identity, clientIP: clientIP, requestId: requestId)
    }

    static func tooMany(_ seconds: Int) -> HTTPResponse {
        var r = HTTPResponse.error(429, "rate limit exceeded, retry in \(seconds) s")
        r.headers.append(("Retry-After", String(seconds)))
        return r
    }
}
