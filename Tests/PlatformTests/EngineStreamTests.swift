import Foundation
import Ledger
import ServiceCore
import StreamCore
import XCTest

@testable import PlatformCore

/// GET /engine/stream through nginx to the market-stream instances (no gateway hop), on the test
/// stack: tickets, who sees what, resume, reset, heartbeats, freeing a closed stream's place, and
/// Redis going away.
final class EngineStreamTests: XCTestCase {
    func ticket(_ api: PTClient, _ token: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let r = api.request("POST", "/engine/streamTicket", token: token)
        return try XCTUnwrap(r.value("$.data.ticket")?.stringValue, "streamTicket: \(r.body)", file: file, line: line)
    }

    func open(
        _ api: PTClient, _ token: String, lastEventId: String? = nil, query: String = "",
        file: StaticString = #filePath, line: UInt = #line
    ) throws -> SSETestClient {
        let s = try SSETestClient(
            try PTEnv.nginx(), ticket: try ticket(api, token), lastEventId: lastEventId, query: query)
        XCTAssertEqual(s.status, 200, s.errorBody, file: file, line: line)
        XCTAssertEqual(s.headers["content-type"]?.hasPrefix("text/event-stream"), true, file: file, line: line)
        return s
    }

    /// The market-stream instances' own ports (the test stack runs two).
    static func streamInstances() throws -> [Endpoint] {
        let base = try PTEnv.portBase()
        return [8800, 8801].map { Endpoint(host: "127.0.0.1", port: base + $0) }
    }

    /// A gauge summed over the market-stream instances' /metrics (signed like the gateway's requests).
    static func streamGauge(_ name: String) throws -> Int {
        try streamInstances().reduce(0) { sum, instance in
            // swift-prometheus prints gauges as floats ("3.0").
            guard let sample = try PTEnv.metrics(instance).first(where: { $0.series == name }),
                let n = Int(exactly: sample.value)
            else { throw PTMissing(description: "no \(name) in /metrics of \(instance)") }
            return sum + n
        }
    }

    static func waitFor(_ what: String, timeout: TimeInterval = 5, _ check: () throws -> Bool) rethrows {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try check() { return }
            usleep(50_000)
        }
        XCTFail("timed out waiting for \(what)")
    }

    /// A seller with `shares` of a fresh stock resting as an ask at `price`.
    func market(_ api: PTClient, price: Int64 = 7, shares: Int64 = 10) throws -> (seller: String, stock: String) {
        let seller = try api.newUser("sse-s")
        let stock = try api.createStock(seller.token)
        api.grant(seller.token, stock, shares)
        ptAssertSuccess(api.order(seller.token, stock, buy: false, limit: price, shares), "ask")
        return (seller.token, stock)
    }

    func buy(_ api: PTClient, _ buyer: String, _ stock: String, _ quantity: Int64) {
        ptAssertSuccess(api.order(buyer, stock, buy: true, limit: nil, quantity), "market buy \(quantity)")
    }

    static func isTrade(_ m: SSEMessage, _ stock: String, quantity: Int64? = nil) -> Bool {
        m.event == "trade" && m.json?["stock_id"]?.stringValue == stock
            && (quantity == nil || m.json?["quantity"] == .int(quantity!))
    }

    // MARK: tickets

    func testTheStreamNeedsAValidTicketNotAToken() throws {
        let api = try PTClient()
        let user = try api.newUser("sse-t")
        let nginx = try PTEnv.nginx()
        let key = Array(try PTEnv.require("DT_TEST_INTERNAL_KEY").utf8)
        let userId = try XCTUnwrap(try LedgerOps.userId(try PTEnv.pg(), name: user.name))
        let now = Clock.wallMillis()
        let refused: [(String, String?)] = [
            ("no ticket", nil),
            ("garbage", "not-a-ticket"),
            (
                "expired",
                StreamTicket(key: key).issue(
                    userId: userId, nowMillis: now - 61_000 - StreamTicket.lifetimeSeconds * 1000)
            ),
            (
                "signed with another key",
                StreamTicket(key: Array("another key".utf8)).issue(userId: userId, nowMillis: now)
            ),
        ]
        for (why, ticket) in refused {
            let s = try SSETestClient(nginx, ticket: ticket)
            XCTAssertEqual(s.status, 401, why)
            let body = try JSON.parse(Array(s.errorBody.utf8))
            XCTAssertEqual(body["success"], .bool(false), "\(why): \(s.errorBody)")
            XCTAssertNotNil(body.at("$.data.error")?.stringValue, "\(why): \(s.errorBody)")
        }
        // A ticket signed with the key the engine signs with opens the stream without any token header.
        let ok = try SSETestClient(nginx, ticket: StreamTicket(key: key).issue(userId: userId, nowMillis: now))
        XCTAssertEqual(ok.status, 200, ok.errorBody)
        XCTAssertEqual(ok.headers["cache-control"], "no-cache, no-store")
        XCTAssertEqual(ok.next()?.comment, "stream open", "the first message, passed on at once (no proxy buffering)")
    }

    // MARK: who sees what

    func testATradeReachesEveryStreamButOrderEventsOnlyTheirOwner() throws {
        let api = try PTClient()
        let watcher = try api.newUser("sse-a")
        let buyer = try api.newUser("sse-b")
        let (seller, stock) = try market(api)
        let a = try open(api, watcher.token)
        let s = try open(api, seller)
        api.deposit(buyer.token, "100")
        buy(api, buyer.token, stock, 4)

        let seen = try XCTUnwrap(a.collect { Self.isTrade($0, stock) }, "A sees the trade")
        let trade = try XCTUnwrap(seen.last)
        XCTAssertEqual(trade.json?["price"], .int(7))
        XCTAssertEqual(trade.json?["quantity"], .int(4))
        XCTAssertNotNil(trade.json?["commit_ms"]?.int64Value, "commit time for latency measurements")
        XCTAssertNotNil(EventId(trade.id ?? ""), "an id EventSource can send back: \(trade.id ?? "none")")

        // The seller sees its own order change with the trade; A must see none of it.
        let mine = try XCTUnwrap(
            s.collect { $0.event == "order" && $0.json?["order_status"]?.stringValue == "PARTIALLY_COMPLETE" },
            "the seller's order event")
        XCTAssertTrue(mine.contains { Self.isTrade($0, stock, quantity: 4) }, "the seller sees the public trade too")
        let sellerOrder = try XCTUnwrap(mine.last?.json?["stock_tx_id"]?.stringValue)

        // A places an order of its own: everything A sees up to that event holds no one else's order.
        api.deposit(watcher.token, "10")
        ptAssertSuccess(api.order(watcher.token, stock, buy: true, limit: 1, 1), "A's bid")
        let upToOwn = try XCTUnwrap(a.collect { $0.event == "order" }, "A's own order event")
        let own = try XCTUnwrap(upToOwn.last?.json)
        let aOrders = api.stockTxs(watcher.token).compactMap { $0["stock_tx_id"]?.stringValue }
        XCTAssertEqual(own["order_status"]?.stringValue, "IN_PROGRESS")
        // 6 shares still rest at 7 after the trade and A's bid at 1 is below them: neither batch moved
        // the price, so no `price` event follows the trade. (The ask's own price event may still reach
        // A before the trade, `seen`: it is published after the ask was answered, racing A's open.)
        XCTAssertFalse(
            upToOwn.contains { $0.event == "price" && $0.json?["stock_id"]?.stringValue == stock },
            "no price event after the trade: \(upToOwn.map { $0.event ?? "" })")
        XCTAssertTrue(
            aOrders.contains(own["stock_tx_id"]?.stringValue ?? "?"), "A's event is A's order: \(own) \(aOrders)")
        XCTAssertFalse(
            (seen + upToOwn).contains { $0.event == "order" && $0.json?["stock_tx_id"]?.stringValue == sellerOrder },
            "A never sees the seller's order \(sellerOrder)")
        XCTAssertEqual((seen + upToOwn).filter { $0.event == "order" }.count, 1, "A's only order event is its own")
    }

    // MARK: resume and reset

    func testLastEventIdResumesWithTheEventsMissedMeanwhile() throws {
        let api = try PTClient()
        let watcher = try api.newUser("sse-r")
        let buyer = try api.newUser("sse-rb")
        let (_, stock) = try market(api)
        api.deposit(buyer.token, "100")
        let first = try open(api, watcher.token)
        buy(api, buyer.token, stock, 1)
        let before = try XCTUnwrap(first.collect { Self.isTrade($0, stock, quantity: 1) })
        let position = try XCTUnwrap(before.last?.id)
        first.close()

        buy(api, buyer.token, stock, 2) // missed while no stream is open
        buy(api, buyer.token, stock, 3)

        for (how, resumed) in [
            ("Last-Event-ID", try open(api, watcher.token, lastEventId: position)),
            ("lastEventId query", try open(api, watcher.token, query: "lastEventId=\(position)")),
        ] {
            let got = try XCTUnwrap(resumed.collect { Self.isTrade($0, stock, quantity: 3) }, "\(how): the trade of 3")
            XCTAssertEqual(
                got.filter { Self.isTrade($0, stock) }.compactMap { $0.json?["quantity"]?.int64Value }, [2, 3],
                "\(how): the missed trades, once each, in order, not the one before \(position)")
            XCTAssertFalse(got.contains { $0.event == "reset" }, how)
            let ids = got.compactMap { $0.id.flatMap(EventId.init) }
            XCTAssertEqual(ids, ids.sorted(), "\(how): ids ascend")
            XCTAssertTrue(ids.allSatisfy { $0 > EventId(position)! }, how)
        }
    }

    func testAnIdNoLongerHeldGetsAResetThenLiveEvents() throws {
        let api = try PTClient()
        let watcher = try api.newUser("sse-x")
        let buyer = try api.newUser("sse-xb")
        let (_, stock) = try market(api, price: 9)
        api.deposit(buyer.token, "100")
        // One instance, straight to its port: once it has streamed the trade, it has read the price
        // event before it (the ask's), so its snapshot has the price.
        let instance = try XCTUnwrap(try Self.streamInstances().first)
        let live = try SSETestClient(instance, ticket: try ticket(api, watcher.token))
        XCTAssertEqual(live.status, 200, live.errorBody)
        buy(api, buyer.token, stock, 1)
        XCTAssertNotNil(live.collect { Self.isTrade($0, stock, quantity: 1) })
        // "1-0": from long before what Redis holds (e.g. kept by a browser across a Redis restart);
        // "abc": no id at all; "99999999999999-0": ahead of anything Redis can have assigned.
        for stale in ["1-0", "abc", "99999999999999-0"] {
            let s = try SSETestClient(instance, ticket: try ticket(api, watcher.token), lastEventId: stale)
            XCTAssertEqual(s.status, 200, s.errorBody)
            let reset = try XCTUnwrap(s.collect { $0.isEvent }?.last, stale)
            XCTAssertEqual(reset.event, "reset", stale)
            let prices = reset.json?["prices"]?.arrayValue ?? []
            XCTAssertTrue(
                prices.contains { $0["stock_id"]?.stringValue == stock && $0["current_price"] == .int(9) },
                "\(stale): the snapshot has the current prices: \(reset.data ?? "")")
            XCTAssertEqual(reset.json?["last_event_id"]?.stringValue, reset.id, stale)
            buy(api, buyer.token, stock, 2)
            XCTAssertNotNil(s.collect { Self.isTrade($0, stock, quantity: 2) }, "\(stale): live events after the reset")
        }
    }

    // MARK: liveness and cleanup

    /// A quiet stream gets `: ping` comments and outlives common idle limits on the way (30 s is
    /// usual for proxies; nginx's for the stream is 1 h).
    func testHeartbeatsKeepAQuietStreamOpenPastA30SecondIdleLimit() throws {
        let api = try PTClient()
        let watcher = try api.newUser("sse-h")
        let buyer = try api.newUser("sse-hb")
        let (_, stock) = try market(api)
        api.deposit(buyer.token, "100")
        let s = try open(api, watcher.token)
        let started = Date()
        var pings: [TimeInterval] = []
        while pings.count < 2 { // ~30 s without an event
            guard let m = s.next(timeout: 20) else {
                return XCTFail("silence for 20 s after \(pings) (or the stream closed)")
            }
            if m.comment == "ping" { pings.append(Date().timeIntervalSince(started)) }
        }
        XCTAssertGreaterThan(pings[0], 5, "pings mark silence; they are not sent all the time: \(pings)")
        XCTAssertGreaterThanOrEqual(pings[1], 29, "\(pings)")
        buy(api, buyer.token, stock, 1)
        XCTAssertNotNil(s.collect { Self.isTrade($0, stock, quantity: 1) }, "still live after 30 s without an event")
    }

    func testAClosedStreamFreesItsPlaceAndUsersAreCapped() throws {
        let api = try PTClient()
        let user = try api.newUser("sse-c")
        // An earlier test's closed streams stay counted until market-stream's next tick: settle first.
        var base = try Self.streamGauge("stream_subscribers")
        for _ in 0..<20 {
            usleep(300_000)
            let now = try Self.streamGauge("stream_subscribers")
            if now == base { break }
            base = now
        }
        let opened = try Self.streamGauge("stream_opened_total")
        var streams = try (0..<3).map { _ in try open(api, user.token) }
        try Self.waitFor("3 more subscribers") { try Self.streamGauge("stream_subscribers") == base + 3 }
        XCTAssertGreaterThanOrEqual(try Self.streamGauge("stream_opened_total"), opened + 3)
        for s in streams { s.close() }
        streams.removeAll()
        // nginx ends the upstream at once, market-stream notices within a tick.
        try Self.waitFor("the closed streams to be let go", timeout: 3) {
            try Self.streamGauge("stream_subscribers") == base
        }

        // At most DT_STREAM_MAX_PER_USER (16) at once per user and instance: the next is 429, JSON.
        let instance = try XCTUnwrap(try Self.streamInstances().first)
        streams = try (0..<16).map { _ in try SSETestClient(instance, ticket: try ticket(api, user.token)) }
        XCTAssertEqual(streams.map(\.status), Array(repeating: 200, count: 16))
        let over = try SSETestClient(instance, ticket: try ticket(api, user.token))
        XCTAssertEqual(over.status, 429, over.errorBody)
        let refusal = try JSON.parse(Array(over.errorBody.utf8))
        XCTAssertNotNil(refusal.at("$.data.error")?.stringValue, over.errorBody)
        streams[0].close()
        Self.waitFor("a place to free up") {
            (try? SSETestClient(instance, ticket: try ticket(api, user.token)))?.status == 200
        }
        for s in streams { s.close() }
    }

    // MARK: Redis

    /// Redis is the stream's only source: kill -9 it (it keeps no data) and orders still commit
    /// at once (the engine publishes off its thread); when it is back, open streams get a `reset`
    /// (what they missed is gone from Redis) and then live events; the events committed meanwhile
    /// waited in the engine and reach Redis after all.
    func testRedisGoingAwayLosesNoOrderAndTheStreamsResetAndCarryOn() throws {
        let api = try PTClient()
        let restart = try PTEnv.require("DT_TEST_REDIS_RESTART")
        let watcher = try api.newUser("sse-k")
        let buyer = try api.newUser("sse-kb")
        let (seller, stock) = try market(api, price: 5, shares: 20)
        api.deposit(buyer.token, "100")
        let s = try open(api, watcher.token)
        let o = try open(api, seller)
        buy(api, buyer.token, stock, 1)
        XCTAssertNotNil(s.collect { Self.isTrade($0, stock, quantity: 1) }, "live before Redis goes")

        XCTAssertEqual(PTShell.run(restart + " kill"), 0, "kill -9 Redis")
        defer { XCTAssertEqual(PTShell.run(restart + " start"), 0, "start Redis again") }
        let started = Date()
        buy(api, buyer.token, stock, 2)
        XCTAssertLessThan(Date().timeIntervalSince(started), 2, "the order did not wait for Redis")

        XCTAssertEqual(PTShell.run(restart + " start"), 0)
        for (who, stream) in [("watcher", s), ("seller", o)] {
            XCTAssertNotNil(stream.collect { $0.event == "reset" }, "\(who): a reset once Redis is back")
        }
        buy(api, buyer.token, stock, 3)
        XCTAssertNotNil(s.collect { Self.isTrade($0, stock, quantity: 3) }, "the same stream after Redis is back")
        XCTAssertNotNil(
            o.collect { $0.event == "order" && $0.json?["remaining"] == .int(14) }, "the seller's order event too")

        // Nothing was lost: the ledger has every fill, the rest still rests, money is conserved.
        let fills = api.stockTxs(buyer.token).filter {
            $0["order_status"]?.stringValue == "COMPLETED" && $0["stock_id"]?.stringValue == stock
        }
        XCTAssertEqual(fills.compactMap { $0["quantity"]?.int64Value }.sorted(), [1, 2, 3], "\(fills)")
        let depth = api.request("GET", "/engine/depth?stock_id=\(stock)", token: buyer.token)
        XCTAssertEqual(depth.path("$.data.asks[0].quantity"), "14")
        // The trade committed while Redis was down reached it once back (it waited in the engine).
        let redis = try PTEnv.redis()
        let market = try EventStreamTests.eventually(
            "the trades in Redis",
            { try EventStreamTests.payloads(redis).filter { $0["stock_id"]?.stringValue == stock } },
            until: { events in
                [2, 3].allSatisfy { q in
                    events.contains { $0["type"]?.stringValue == "trade" && $0["quantity"] == .int(q) }
                }
            })
        XCTAssertFalse(market.isEmpty)
        try PTLedger.conservation()
    }
}
