import Foundation
import Ledger
import ServiceCore
import XCTest

@testable import PlatformCore

/// After each commit the engine appends trades, prices and order changes to Redis Streams.
final class EventStreamTests: XCTestCase {
    /// The `json` payloads of a stream's entries after `after` (an entry id), oldest first.
    static func payloads(_ redis: RedisConnection, _ key: String, after: String = "-") throws -> [JSON] {
        guard case .array(let entries) = try redis.command(["XRANGE", key, after, "+"]) else { return [] }
        return entries.compactMap { entry -> JSON? in
            guard case .array(let parts) = entry, parts.count == 2, case .array(let fields) = parts[1],
                fields.count == 4,
                let type = fields[1].text, let text = fields[3].text,
                case .object(var pairs)? = try? JSON.parse(Array(text.utf8))
            else {
                return nil
            }
            pairs.append(("type", .string(type)))
            return .object(pairs)
        }
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
        let marketStart = try Self.lastId(redis, MarketEvents.marketStream)
        ptAssertSuccess(api.order(seller.token, stock, buy: false, limit: 7, 10), "ask")
        api.deposit(buyer.token, "100")
        ptAssertSuccess(api.order(buyer.token, stock, buy: true, limit: nil, 4), "take 4")
        let market = try Self.payloads(redis, MarketEvents.marketStream, after: marketStart).filter {
            $0["stock_id"]?.stringValue == stock
        }
        XCTAssertTrue(
            market.contains {
                $0["type"]?.stringValue == "trade" && $0["quantity"] == .int(4) && $0["price"] == .int(7)
            },
            "the trade: \(market)")
        XCTAssertTrue(
            market.contains { $0["type"]?.stringValue == "price" && $0["current_price"] == .int(7) },
            "the price: \(market)")
        let mine = try Self.payloads(redis, MarketEvents.userStream(sellerId))
        XCTAssertEqual(
            mine.compactMap { $0["order_status"]?.stringValue }, ["IN_PROGRESS", "PARTIALLY_COMPLETE"],
            "the seller's order as it rested, then after the fill")
        XCTAssertEqual(mine.last?["remaining"], .int(6))

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
