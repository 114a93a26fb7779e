import ServiceCore
import StreamCore

// market-stream: GET /engine/stream (Server-Sent Events) for browsers, straight from nginx.
// One reader thread follows the Redis stream `events` (every engine process appends to it) into
// an in-memory window; the event loops fan each event out to their clients, encoded once. Scale
// out by adding instances (ports in deploy/topology.json): they share nothing but Redis.
// The engine does no per-client work; this service holds no database login, only Redis's
// password and DT_INTERNAL_KEY (to check stream tickets; /metrics needs the gateway's proof).
let service = Service(Topology.marketStream, defaultWorkers: 2, callers: .publicExcept(["/metrics"]))
let config = service.config
service.requireSecret("DT_REDIS_PASSWORD", "Redis")
let ticketKey = Array(service.requireSecret("DT_INTERNAL_KEY", "stream tickets").utf8)

let hub = EventHub(capacity: config.int("DT_STREAM_WINDOW", default: EventLog.streamCap))
let prices = PriceSnapshot()
let limits = StreamLimits(config)
// How long the feed gathers events before handing them to the loops: GatherWindow's settings.
let feed = RedisEventFeed(
    target: config.redis, hub: hub, prices: prices, logger: service.logger, window: GatherWindow(config))
feed.start()

let endpoint = StreamEndpoint(hub: hub, prices: prices, tickets: StreamTicket(key: ticketKey), limits: limits)
service.router.addAsync("GET", StreamEndpoint.path) { request, responder in endpoint.handle(request, responder) }
service.gauge("stream_subscribers") { limits.subscribers }
service.gauge("stream_opened_total") { limits.openedTotal }
service.gauge("stream_resets_total") { limits.resetsTotal }
service.gauge("stream_events_sent_total") { limits.eventsSentTotal }
service.gauge("stream_writes_total") { limits.writesTotal }
service.gauge("stream_feed_connected") { feed.isConnected ? 1 : 0 }
service.gauge("stream_feed_restarts_total") { feed.restartCount }
service.gauge("stream_feed_reads_total") { feed.readCount }
service.gauge("stream_window_events") { hub.count }
service.runForever()
