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
            guard case .array(let parts) = entry, parts.count == 2, case .array(let fields) = parts[1], fields.count == 2,
                  let text = fields[1].text else { return nil }
            return try? JSON.parse(Array(text.utf8))
        }
    }

    static func lastId(_ redis: RedisConnection, _ key: String) throws -> String {
        guard case .array(let entries) = try redis.command(["XREVRANGE", key, "+", "-", "COUNT", "1"]),
              case .array(let parts)? = entries.first, let id = parts.first?.text else { return "-" }
        return "(" + id
    }

    func testTradesPricesAndOrderChangesArePublishedAfterCommit() throws {
        let api = try PTClient()
        let redis = try PTEnv.redis()
        let seller = try api.newUser("evs"), buyer = try api.newUser("evb")
        let db = try PTEnv.pg()
        let sellerId = try XCTUnwrap(try LedgerOps.userId(db, name: seller.name))
        let stock = try api.createStock(seller.token)
        api.grant(seller.token, stock, 10)
        let marketStart = try Self.lastId(redis, MarketEvents.marketStream)
        ptAssertSuccess(api.order(seller.token, stock, buy: false, limit: 7, 10), "ask")
        api.deposit(buyer.token, "100")
        ptAssertSuccess(api.order(buyer.token, stock, buy: true, limit: nil, 4), "take 4")
        let market = try Self.payloads(redis, MarketEvents.marketStream, after: marketStart).filter { $0["stock_id"]?.stringValue == stock }
        XCTAssertTrue(market.contains { $0["type"]?.stringValue == "trade" && $0["quantity"] == .int(4) && $0["price"] == .int(7) },
                      "the trade: \(market)")
        XCTAssertTrue(market.contains { $0["type"]?.stringValue == "price" && $0["current_price"] == .int(7) }, "the price: \(market)")
        let mine = try Self.payloads(redis, MarketEvents.userStream(sellerId))
        XCTAssertEqual(mine.compactMap { $0["order_status"]?.stringValue }, ["IN_PROGRESS", "PARTIALLY_COMPLETE"],
                       "the seller's order as it rested, then after the fill")
        XCTAssertEqual(mine.last?["remaining"], .int(6))
    }
}
