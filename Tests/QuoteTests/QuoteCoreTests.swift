import Foundation
import ServiceCore
import XCTest

@testable import QuoteCore
@testable import ServiceCore

/// The simulator's pieces in-process: walks, signatures, the line parser and the HTTP routes.
final class QuoteCoreTests: XCTestCase {
    func testSeededWalksRepeatAndStayInBounds() {
        let a = PriceWalk(seed: 7)
        let b = PriceWalk(seed: 7)
        var previous: Int64?
        for _ in 0..<2_000 {
            let p = a.next(symbol: "ABC")
            XCTAssertEqual(p, b.next(symbol: "ABC"))
            XCTAssertTrue((PriceWalk.minCents...PriceWalk.maxCents).contains(p), "\(p)")
            if let q = previous {
                // One step moves at most maxStepBasisPoints of the price (plus a cent of rounding).
                XCTAssertLessThanOrEqual(abs(p - q), q * PriceWalk.maxStepBasisPoints / 10_000 + 1)
            }
            previous = p
        }
        XCTAssertNotEqual(
            (0..<5).map { _ in PriceWalk(seed: 8).next(symbol: "ABC") }, (0..<5).map { _ in a.next(symbol: "ABC") })
    }

    func testCryptokeyHasTheLegacyShapeAndDetectsTampering() {
        let signer = QuoteSigner.make(seed: 1, explicitSecret: nil)
        let key = signer.cryptokey(price: "12.34", symbol: "ABC", user: "u1", timestamp: 1_700_000_000_000)
        XCTAssertEqual(key.count, 56)
        XCTAssertTrue(key.hasSuffix("="))
        XCTAssertTrue(
            signer.verify(price: "12.34", symbol: "ABC", user: "u1", timestamp: 1_700_000_000_000, cryptokey: key))
        XCTAssertFalse(
            signer.verify(price: "12.35", symbol: "ABC", user: "u1", timestamp: 1_700_000_000_000, cryptokey: key))
        XCTAssertFalse(
            signer.verify(price: "12.34", symbol: "ABC", user: "u2", timestamp: 1_700_000_000_000, cryptokey: key))
        XCTAssertFalse(
            QuoteSigner.make(seed: 2, explicitSecret: nil).verify(
                price: "12.34", symbol: "ABC", user: "u1", timestamp: 1_700_000_000_000, cryptokey: key))
    }

    func testLineParserAcceptsTheLegacyFormsOnly() {
        XCTAssertEqual(QuoteInput.parseLine("ABC,user1\n"), .ok(symbol: "ABC", user: "user1"))
        XCTAssertEqual(QuoteInput.parseLine("ABC user1"), .ok(symbol: "ABC", user: "user1"))
        XCTAssertEqual(QuoteInput.parseLine("user1,ABC"), .ok(symbol: "ABC", user: "user1"))
        XCTAssertEqual(QuoteInput.parseLine("abcd,user1"), .bad(echoSymbol: "abcd"))
        XCTAssertEqual(QuoteInput.parseLine(""), .bad(echoSymbol: ""))
        XCTAssertEqual(QuoteInput.parseLine("ABC,u,extra"), .bad(echoSymbol: "ABC"))
    }

    func testSeedTextIsANumberOrHashed() {
        XCTAssertNil(QuoteServer.seed(""))
        XCTAssertEqual(QuoteServer.seed("42"), 42)
        XCTAssertEqual(QuoteServer.seed("lab"), PriceWalk.fnv1a("lab"))
    }

    // MARK: HTTP routes, dispatched as the server would

    let desk = QuoteDesk(seed: 3, secret: nil, delayMillis: 0)
    lazy var router: Router = {
        let r = Router()
        QuoteRoutes.install(on: r, desk: desk)
        return r
    }()
    let ctx = WorkerContext(config: ServiceConfig(name: "quote-test", environment: [:]), index: 0)

    func call(_ method: String, _ path: String, query: String = "", body: String = "") throws -> (Int, JSON?) {
        guard case .found(let route) = router.match(method: method, path: path) else { return (404, nil) }
        do {
            let r = try route.handler(
                HTTPRequest(method: method, path: path, query: query, body: Array(body.utf8)), ctx)
            return (r.status, try? JSON.parse(r.body))
        } catch {
            let r = HTTPResponse.forError(error, route: path, logger: Logger(label: "test"))
            return (r.status, try? JSON.parse(r.body))
        }
    }

    func testQuoteIsSignedAndVerifiable() throws {
        let (status, json) = try call("GET", "/quote", query: "symbol=ABC&user=alice")
        XCTAssertEqual(status, 200)
        let q = try XCTUnwrap(json)
        let price = try XCTUnwrap(q["price"]?.stringValue)
        let ts = try XCTUnwrap(q["timestamp"]?.int64Value)
        let key = try XCTUnwrap(q["cryptokey"]?.stringValue)
        XCTAssertEqual(q["symbol"], .string("ABC"))
        XCTAssertEqual(q["user"], .string("alice"))
        // base64 holds '+', '/' and '=': percent-encode it as a client must.
        let encoded = try XCTUnwrap(key.addingPercentEncoding(withAllowedCharacters: .alphanumerics))
        let verify = "price=\(price)&symbol=ABC&user=alice&timestamp=\(ts)&cryptokey=\(encoded)"
        XCTAssertEqual(try call("GET", "/verify", query: verify).1?["valid"], .bool(true))
        let forged = "price=1.00&symbol=ABC&user=alice&timestamp=\(ts)&cryptokey=\(encoded)"
        XCTAssertEqual(try call("GET", "/verify", query: forged).1?["valid"], .bool(false))
        XCTAssertEqual(desk.httpHits.load(ordering: .relaxed), 1)
    }

    func testBadInputIs400AndCounted() throws {
        XCTAssertEqual(try call("GET", "/quote", query: "symbol=abcd&user=alice").0, 400)
        XCTAssertEqual(try call("GET", "/quote", query: "symbol=ABC&user=a,b").0, 400)
        XCTAssertEqual(try call("GET", "/verify", query: "price=1").0, 400)
        XCTAssertEqual(try call("POST", "/control", body: #"{"delayMs":-1}"#).0, 400)
        XCTAssertEqual(try call("POST", "/control", body: "nope").0, 400)
        XCTAssertEqual(desk.badRequests.load(ordering: .relaxed), 2)
        XCTAssertEqual(desk.httpHits.load(ordering: .relaxed), 0)
    }

    func testControlChangesTheLatency() throws {
        let (status, json) = try call("POST", "/control", body: #"{"delayMs":40}"#)
        XCTAssertEqual(status, 200)
        XCTAssertEqual(json?["delayMs"], .int(40))
        let start = Clock.monotonicNanos()
        XCTAssertEqual(try call("GET", "/quote", query: "symbol=XYZ&user=bob").0, 200)
        XCTAssertGreaterThanOrEqual(Clock.monotonicNanos() - start, 40_000_000)
    }
}
