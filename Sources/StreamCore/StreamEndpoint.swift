import ServiceCore

/// `GET /engine/stream?ticket=…`: the committed events a user may see, as Server-Sent Events,
/// served by the market-stream service (nginx proxies the path straight to its instances; no
/// gateway hop: a browser's EventSource cannot send a token, the ticket from
/// `POST /engine/streamTicket` names the user). Runs on the event loop: opening a stream touches
/// no database, only the ticket's HMAC and the in-memory EventHub.
///
/// Resume: `Last-Event-ID` (EventSource sends it on its own reconnects) or `lastEventId` in the
/// query, a Redis stream id: events after it are served from the hub, which holds what Redis holds
/// (seeded from it at start); an id older than that is answered with `reset`.
public struct StreamEndpoint: Sendable {
    public static let path = "/engine/stream"
    let hub: EventHub
    let prices: PriceSnapshot
    let tickets: StreamTicket
    let limits: StreamLimits

    public init(hub: EventHub, prices: PriceSnapshot, tickets: StreamTicket, limits: StreamLimits) {
        self.hub = hub
        self.prices = prices
        self.tickets = tickets
        self.limits = limits
    }

    public func handle(_ request: HTTPRequest, _ responder: Responder) {
        guard let ticket = request.queryParam("ticket"), !ticket.isEmpty else {
            return responder.respond(
                .error(401, "a stream ticket is required: POST /engine/streamTicket, then ?ticket="))
        }
        guard let user = tickets.verify(ticket, nowMillis: Clock.wallMillis()) else {
            return responder.respond(.error(401, "invalid or expired stream ticket"))
        }
        let resumeText = request.header("last-event-id") ?? request.queryParam("lastEventId")
        let resumeFrom = resumeText.flatMap { EventId($0) }
        switch limits.acquire(user) {
        case .processFull?:
            return responder.respond(
                HTTPResponse.error(503, "too many event streams on this server, retry shortly").retryAfter(5))
        case .userFull?:
            return responder.respond(
                HTTPResponse.error(429, "at most \(limits.maxPerUser) event streams per user").retryAfter(5))
        case nil:
            break
        }
        responder.startStream(
            HTTPResponse(
                status: 200,
                headers: [
                    ("Content-Type", "text/event-stream; charset=utf-8"),
                    ("Cache-Control", "no-cache, no-store"),
                    ("X-Accel-Buffering", "no"), // nginx: pass each event on at once
                ]), contentLength: nil)
        guard responder.isOpen else { // HEAD, or the client left already
            limits.release(user)
            return
        }
        limits.opened.add(1, ordering: .relaxed)
        StreamRegistry.of(responder, hub: hub, prices: prices, limits: limits)
            .add(
                responder, user: user, resumeFrom: resumeFrom, resumeRequested: resumeText.map { !$0.isEmpty } ?? false)
    }
}
