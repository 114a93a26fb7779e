import Foundation
import Ledger
import ServiceCore
import StreamCore
import XCTest

@testable import PlatformCore

/// After each commit the engine appends trades, prices and order changes to the Redis stream
/// `events` (off its own thread), and the moved prices to the `prices` hash.
final class EventStreamTests: XCTestCase {
    /// The `json` payloads of the stream's entries after `after` (an entry id), oldest first, with
    /// the entry's `type` and (an order event's) `user` added.
    static func payloads(_ redis: RedisConnection, _ key: String = EventLog.streamKey, after: String = "-") throws
        -> [JSON]
    {
        guard case .array(let entries) = try redis.command(["XRANGE", key, after, "+"]) else { return [] }
        return entries.compactMap { entry -> JSON? in
            guard case .array(let parts) = entry, parts.count == 2, case .array(let fields) = parts[1] else {
                return nil
            }
            var named: [String: String] = [:]
            for i in stride(from: 0, to: fields.count - 1, by: 2) {
                if let k = fields[i].text, let v = fields[i + 1].text { named[k] = v }
            }
            guard let type = named["type"], let text = named["json"],
                case .object(var pairs)? = try? JSON.parse(Array(text.utf8))
            else { return nil }
            pairs.append(("type", .string(type)))
            if let user = named["user"] { pairs.append(("user", .string(user))) }
            return .object(pairs)
        }
    }

    /// Waits (bounded) until the engine's publisher thread has sent what `check` looks for.
    static func eventually<T>(_ what: String, _ read: () throws -> T, until check: (T) -> Bool) throws -> T {
        let deadline = Date().addingTimeInterval(5)
        var last = try read()
        while !check(last) && Date() < deadline {
            usleep(20_000)
            last = try read()
        }
        XCTAssertTrue(check(last), "timed out waiting for \(what)")
        return last
    }

    static func lastId(_ redis: RedisConnection, _ key: String) throws -> String {
        guard case .array(let entries) = try redis.command(["XREVRANGE", key, "+", "-", "COUNT", "1"]),
            case .array(let parts)? = entries.first, let id = parts.first?.text
        else { return "-" }
        return "(" + id
    }

    func testTradesPricesAndOrderChangesArePublishedAfterCommit() throws {
        let api = try PTClient()
        let redis = try PTEnv.redis()
        let seller = try api.newUser("evs")
        let buyer = try api.newUser("evb")
        let db = try PTEnv.pg()
        let sellerId = try XCTUnwrap(try LedgerOps.userId(db, name: seller.name))
        let stock = try api.createStock(seller.token)
        api.grant(seller.token, stock, 10)
        let start = try Self.lastId(redis, EventLog.streamKey)
        ptAssertSuccess(api.order(seller.token, stock, buy: false, limit: 7, 10), "ask")
        api.deposit(buyer.token, "100")
        ptAssertSuccess(api.order(buyer.token, stock, buy: true, limit: nil, 4), "take 4")
        let all = try Self.eventually(
            "the trade and the seller's order change in Redis",
            { try Self.payloads(redis, after: start) },
            until: {
                $0.contains {
                    $0["type"]?.stringValue == "order" && $0["remaining"] == .int(6)
                        && $0["user"]?.stringValue == String(sellerId)
                }
            })
        let market = all.filter { $0["stock_id"]?.stringValue == stock && $0["user"] == nil }
        XCTAssertTrue(
            market.contains {
                $0["type"]?.stringValue == "trade" && $0["quantity"] == .int(4) && $0["price"] == .int(7)
            },
            "the trade: \(market)")
        XCTAssertEqual(
            market.filter { $0["type"]?.stringValue == "price" }.compactMap { $0["current_price"] }, [.int(7)],
            "the price once, when the ask set it (the fill left 6 at 7: no change, no event): \(market)")
        let mine = all.filter { $0["user"]?.stringValue == String(sellerId) }
        XCTAssertEqual(
            mine.compactMap { $0["order_status"]?.stringValue }, ["IN_PROGRESS", "PARTIALLY_COMPLETE"],
            "the seller's order as it rested, then after the fill")
        XCTAssertEqual(mine.last?["remaining"], .int(6))
        XCTAssertTrue(
            all.allSatisfy { $0["type"]?.stringValue != "order" || $0["user"] != nil }, "order events name their user")
        // The reset snapshot's price, written before the events.
        let price = try redis.command(["HGET", EventLog.pricesKey, stock]).text.flatMap(EventLog.parsePrice)
        XCTAssertEqual(price?.cents, 700, "prices hash: \(String(describing: price))")

        // The depth board, as of that commit.
        let depth = api.request("GET", "/engine/depth?stock_id=\(stock)", token: buyer.token)
        XCTAssertEqual(depth.status, 200, depth.body)
        XCTAssertEqual(depth.path("$.data.asks[0].price"), "7")
        XCTAssertEqual(depth.path("$.data.asks[0].quantity"), "6")
        XCTAssertEqual(depth.value("$.data.bids")?.arrayValue?.count, 0)
        XCTAssertEqual(api.request("GET", "/engine/depth?stock_id=abc", token: buyer.token).status, 400)
    }

    func testStreamTicketsNameTheirUserAndCannotBeForged() throws {
        let api = try PTClient()
        let user = try api.newUser("evt")
        let r = api.request("POST", "/engine/streamTicket", token: user.token)
        XCTAssertEqual(r.status, 200, r.body)
        let ticket = try XCTUnwrap(r.value("$.data.ticket")?.stringValue)
        let tickets = StreamTicket(key: Array(try PTEnv.require("DT_TEST_INTERNAL_KEY").utf8))
        let id = try XCTUnwrap(try LedgerOps.userId(try PTEnv.pg(), name: user.name))
        let now = Clock.wallMillis()
        XCTAssertEqual(tickets.verify(ticket, nowMillis: now), id)
        XCTAssertNil(tickets.verify(ticket, nowMillis: now + 61_000), "expired")
        var parts = ticket.split(separator: ".").map(String.init)
        parts[0] = String(id + 1)
        XCTAssertNil(tickets.verify(parts.joined(separator: "."), nowMillis: now), "another user's id")
        XCTAssertNil(StreamTicket(key: Array("other".utf8)).verify(ticket, nowMillis: now), "another key")
        XCTAssertEqual(api.request("POST", "/engine/streamTicket", token: nil).status, 401)
    }
}
