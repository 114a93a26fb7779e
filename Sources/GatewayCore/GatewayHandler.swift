import ServiceCore

/// The request pipeline, all on the event loop: route (404) → per-IP bucket (429) → token (401)
/// → per-user bucket (429) → proxy. Every answer carries the request's x-request-id.
public struct GatewayHandler: Sendable {
    let authenticator: TokenAuthenticator
    let ipLimiter: RateLimiter
    let userLimiter: RateLimiter
    let proxy: Proxy
    let requestIds: RequestIds

    public init(
        authenticator: TokenAuthenticator, ipLimiter: RateLimiter, userLimiter: RateLimiter, proxy: Proxy,
        requestIds: RequestIds
    ) {
        self.authenticator = authenticator
        self.ipLimiter = ipLimiter
        self.userLimiter = userLimiter
        self.proxy = proxy
        self.requestIds = requestIds
    }

    /// What to do with a request before any upstream is involved.
    enum Decision {
        case answer(HTTPResponse)
        case forward(group: UpstreamGroup, identity: Identity?, clientIP: String)
    }

    public func handle(_ request: HTTPRequest, _ responder: Responder) {
        let requestId = requestIds.next()
        switch decide(request, tokens: responder.context.local(VerifiedTokens.self) { VerifiedTokens() }) {
        case .answer(let response):
            responder.respond(Proxy.tagged(response, requestId))
        case .forward(let group, let identity, let clientIP):
            proxy.forward(
                request, group: group, identity: identity, clientIP: clientIP, requestId: requestId,
                responder: responder)
        }
    }

    func decide(_ request: HTTPRequest, tokens: VerifiedTokens? = nil) -> Decision {
        guard let route = RouteTable.decide(request.path) else {
            return .answer(.error(404, "no such endpoint: \(request.method) \(request.path)"))
        }
        let clientIP = ClientAddress.of(request)
        if case .limited(let seconds) = ipLimiter.take(clientIP) {
            return .answer(Self.tooMany(seconds))
        }
        var identity: Identity? = nil
        if !route.isPublic {
            switch authenticator.authenticate(request, cache: tokens) {
            case .failure(let f):
                return .answer(.error(401, f.message))
            case .success(let id):
                if case .limited(let seconds) = userLimiter.take(id.userId) { return .answer(Self.tooMany(seconds)) }
                identity = id
            }
        }
        return .forward(group: route.group, identity: identity, clientIP: clientIP)
    }

    static func tooMany(_ seconds: Int) -> HTTPResponse {
        HTTPResponse.error(429, "rate limit exceeded, retry in \(seconds) s").retryAfter(seconds)
    }
}
