import Foundation
import Ledger
import ServiceCore
import XCTest

/// `Idempotency-Key` through nginx and the gateway: a repeat returns the first answer and
/// changes nothing, a different body is 422, a request still in flight is 409, and a client that
/// lost its connection after sending gets the first outcome when it retries.
final class IdempotencyTests: XCTestCase {
    private func post(_ ep: Endpoint, _ path: String, token: String, key: String?, body: String) throws -> EdgeResponse
    {
        var headers = [("token", token)]
        if let key { headers.append(("Idempotency-Key", key)) }
        return try EdgeHTTP.call(ep, "POST", path, headers: headers, body: body)
    }

    /// A seller whose ask of 100 shares at `price` rests, and a buyer with `cash`; the buyer's
    /// market order for `quantity` as a request body.
    private func market(_ api: PTClient, price: Int64, cash: String, quantity: Int) throws
        -> (seller: (name: String, token: String), buyer: (name: String, token: String), stock: String, body: String)
    {
        let seller = try api.newUser("ikS")
        let buyer = try api.newUser("ikB")
        let stock = try api.createStock(seller.token)
        api.grant(seller.token, stock, 100)
        ptAssertSuccess(api.order(seller.token, stock, buy: false, limit: price, 100), "ask")
        api.deposit(buyer.token, cash)
        return (
            seller, buyer, stock,
            #"{"stock_id":"\#(stock)","is_buy":true,"order_type":"MARKET","quantity":\#(quantity),"price":null}"#
        )
    }

    func testRepeatedPlaceOrderTradesOnce() throws {
        let ep = try EdgeEnv.nginx()
        let api = try PTClient()
        let (seller, buyer, stock, body) = try market(api, price: 10, cash: "1000", quantity: 5)
        let key = UUID().uuidString
        let first = try post(ep, "/engine/placeStockOrder", token: buyer.token, key: key, body: body)
        XCTAssertEqual(first.status, 200, first.text)
        XCTAssertNil(first.header("idempotent-replayed"))
        let again = try post(ep, "/engine/placeStockOrder", token: buyer.token, key: key, body: body)
        XCTAssertEqual(again.status, first.status)
        XCTAssertEqual(again.text, first.text)
        XCTAssertEqual(again.header("idempotent-replayed"), "true")
        XCTAssertEqual(api.stockTxs(buyer.token).count, 1, "one order")
        XCTAssertEqual(api.balance(buyer.token), "950", "paid once")
        let other = try post(
            ep, "/engine/placeStockOrder", token: buyer.token, key: key,
            body: body.replacingOccurrences(of: ":5", with: ":6"))
        XCTAssertEqual(other.status, 422, other.text)
        XCTAssertTrue(other.isErrorEnvelope)
        // A rejected order's answer is kept too: the repeat gets the same 400, not a new attempt.
        let poorKey = UUID().uuidString
        let tooMuch = body.replacingOccurrences(of: ":5", with: ":500")
        let rejected = try post(ep, "/engine/placeStockOrder", token: buyer.token, key: poorKey, body: tooMuch)
        XCTAssertEqual(rejected.status, 400)
        XCTAssertEqual(
            try post(ep, "/engine/placeStockOrder", token: buyer.token, key: poorKey, body: tooMuch).text, rejected.text
        )
        // Keys are per user: the same key from someone else is a new request.
        api.deposit(seller.token, "100")
        let sellersOwn = try post(
            ep, "/engine/placeStockOrder", token: seller.token, key: key,
            body: #"{"stock_id":"\#(stock)","is_buy":true,"order_type":"LIMIT","quantity":1,"price":2}"#)
        XCTAssertEqual(sellersOwn.status, 200, sellersOwn.text)
        XCTAssertNil(sellersOwn.header("idempotent-replayed"))
        try PTLedger.conservation()
    }

    func testRepeatedDepositAndClassicBuyApplyOnce() throws {
        let ep = try EdgeEnv.nginx()
        let api = try PTClient()
        let user = try api.newUser("ikD")
        let key = UUID().uuidString
        for _ in 0..<3 {
            XCTAssertEqual(
                try post(ep, "/transaction/addMoneyToWallet", token: user.token, key: key, body: #"{"amount":6000}"#)
                    .status, 200)
        }
        XCTAssertEqual(api.balance(user.token), "6000", "deposited once")
        let buyKey = UUID().uuidString
        // Quotes are at most $5,000 (PriceWalk), so this amount always buys at least one share.
        let buy = try post(
            ep, "/classic/BUY", token: user.token, key: buyKey, body: #"{"stock":"IKB","amount":"5000.00"}"#)
        XCTAssertEqual(buy.status, 200, buy.text)
        let repeatBuy = try post(
            ep, "/classic/BUY", token: user.token, key: buyKey, body: #"{"stock":"IKB","amount":"5000.00"}"#)
        XCTAssertEqual(repeatBuy.text, buy.text, "same answer, same transactionNum")
        let summary = try post(ep, "/classic/DISPLAY_SUMMARY", token: user.token, key: nil, body: "{}")
        XCTAssertEqual(summary.json?["data"]?["pendingBuys"]?.arrayValue?.count, 1, "one pending BUY: \(summary.text)")
        try PTLedger.conservation()
    }

    func testARequestStillInFlightGets409() throws {
        let ep = try EdgeEnv.nginx()
        let api = try PTClient()
        let user = try api.newUser("ikF")
        let db = try PTEnv.pg()
        let id = try XCTUnwrap(try LedgerOps.userId(db, name: user.name))
        let key = UUID().uuidString
        // Hold the key's in-flight lock, as a worker running the first request does.
        XCTAssertEqual(
            try db.query("SELECT pg_try_advisory_lock(hashtextextended($1, 7))", ["\(id):\(key)"]).bool(0, 0), true)
        let busy = try post(ep, "/transaction/addMoneyToWallet", token: user.token, key: key, body: #"{"amount":5}"#)
        XCTAssertEqual(busy.status, 409, busy.text)
        XCTAssertEqual(busy.header("retry-after"), "1")
        try db.query("SELECT pg_advisory_unlock(hashtextextended($1, 7))", ["\(id):\(key)"])
        XCTAssertEqual(
            try post(ep, "/transaction/addMoneyToWallet", token: user.token, key: key, body: #"{"amount":5}"#).status,
            200)
        XCTAssertEqual(api.balance(user.token), "5")
    }

    /// The client sends its order and hangs up before the answer; its retry with the same key
    /// gets the first outcome (after 409s while the first is still running) and trades once.
    func testARetryAfterACutConnectionTradesOnce() throws {
        let ep = try EdgeEnv.nginx()
        let api = try PTClient()
        let (_, buyer, stock, body) = try market(api, price: 3, cash: "300", quantity: 7)
        let key = UUID().uuidString
        let raw =
            "POST /engine/placeStockOrder HTTP/1.1\r\nHost: localhost\r\ntoken: \(buyer.token)\r\nIdempotency-Key: \(key)\r\n"
            + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        try RawSocket.sendAndClose(ep, Array(raw.utf8))
        var answer: EdgeResponse
        let deadline = Date().addingTimeInterval(20)
        repeat {
            answer = try post(ep, "/engine/placeStockOrder", token: buyer.token, key: key, body: body)
            if answer.status == 409 { usleep(100_000) } // the first is still running: Retry-After says try again
        } while answer.status == 409 && Date() < deadline
        XCTAssertEqual(answer.status, 200, answer.text)
        let orders = api.stockTxs(buyer.token)
        XCTAssertEqual(orders.count, 1, "one order in all")
        XCTAssertEqual(api.balance(buyer.token), "279")
        XCTAssertEqual(api.owned(buyer.token, stock), "7")
        try PTLedger.conservation()
    }
}

/// A plain TCP client for requests no HTTP client library would send.
enum RawSocket {
    /// Connects, writes everything, and closes without reading.
    static func sendAndClose(_ ep: Endpoint, _ bytes: [UInt8]) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw EdgeEnvMissing(description: "socket failed") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(ep.port).bigEndian)
        addr.sin_addr.s_addr = inet_addr(ep.host)
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw EdgeEnvMissing(description: "connect to \(ep) failed") }
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw EdgeEnvMissing(description: "send failed") }
            sent += n
        }
    }
}
