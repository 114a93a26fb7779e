import Foundation
import Ledger
import ServiceCore
import Synchronization
import XCTest

@testable import ClassicCore

/// "No thread waits on a quote": QUOTE/BUY/SELL that miss the cache park on `QuoteFlights`
/// (one fetch per symbol) and give their worker back, so a slow quote server cannot stall the
/// service's other commands.
final class QuoteParkingTests: ClassicTestCase {
    func testSlowMissesHoldNoWorker() throws {
        let qs = try WorkloadQuoteServerTests.QuoteServerProcess(seed: "parking", delayMillis: 5000)
        let signer = GatewayProof.fromEnvironment("DT_TEST_INTERNAL_KEY")
        let slow = ClassicEngine(
            clock: clock,
            quotes: QuoteCache(
                source: HTTPQuoteSource(endpoint: qs.endpoint, timeoutMillis: 9000, signer: signer), clock: clock,
                waitMillis: 10_000),
            server: "test", committer: TestEnv.committer)
        let redisTarget = RedisTarget(try TestEnv.redisEndpoint(), password: TestEnv.value("DT_TEST_REDIS_PASSWORD"))
        let flights = QuoteFlights(cache: slow.quotes, redis: redisTarget)
        // 8 workers: 66 slow misses would hold every one of them for 5 s if a miss waited on its worker.
        var options = HTTPServerOptions()
        options.port = 0
        options.workers = 8
        options.loops = 1
        let router = Router()
        ClassicHTTP.register(router, engine: slow, commands: [.ADD, .QUOTE, .DISPLAY_SUMMARY], flights: flights)
        let env = [
            "DT_PG": TestEnv.value("DT_TEST_PG") ?? "", "DT_REDIS": TestEnv.value("DT_TEST_REDIS") ?? "",
            "DT_REDIS_PASSWORD": TestEnv.value("DT_TEST_REDIS_PASSWORD") ?? "",
        ]
        let config = ServiceConfig(name: "test", environment: env)
        let server = HTTPServer(options: options, router: router, logger: Logger.json(service: "test", level: .error)) {
            WorkerContext(config: config, index: $0)
        }
        try server.start()
        defer {
            server.shutdown()
            server.wait()
        }
        let endpoint = Endpoint(host: "127.0.0.1", port: server.port)

        let quoter = try newUser(cash: 100_000)
        let other = try newUser(cash: 1_000)
        let quoterId = try XCTUnwrap(try LedgerOps.userId(db, name: quoter))
        let otherId = try XCTUnwrap(try LedgerOps.userId(db, name: other))
        // Fresh symbols: their cache entries are stale for the test's clock, so every QUOTE misses.
        let symbols = try (0..<64).map { _ in try newSymbol(price: 1_000) }
        // Two more QUOTEs of the first symbol share its fetch (single flight).
        let requests = symbols + [symbols[0], symbols[0]]

        @Sendable func post(_ cmd: ClassicCommandName, _ user: String, _ id: Int64, _ body: String) throws -> (
            Int, Double
        ) {
            let t0 = Date()
            let r = try HTTPClient.shared.request(
                endpoint, method: "POST", path: "/classic/\(cmd.rawValue)",
                headers: [("x-user-name", user), ("x-user-role", "user"), ("x-user-id", String(id))],
                body: Array(body.utf8), timeoutMillis: 20_000)
            return (r.status, Date().timeIntervalSince(t0))
        }

        let results = Mutex<[(Int, Double)]>([])
        let group = DispatchGroup()
        for s in requests {
            group.enter()
            Thread {
                let r = (try? post(.QUOTE, quoter, quoterId, #"{"stock":"\#(s)"}"#)) ?? (-1, 0)
                results.withLock { $0.append(r) }
                group.leave()
            }.start()
        }
        // Every QUOTE has reached the flights (a condition, polled; not a sleep to hide a race).
        let deadline = Date().addingTimeInterval(4)
        while flights.parked < requests.count && Date() < deadline { usleep(5_000) }
        XCTAssertEqual(flights.parked, requests.count, "every miss is parked")

        // Meanwhile the same 8 workers answer other commands at once.
        let add = try post(.ADD, other, otherId, #"{"amount":"5.00"}"#)
        let summary = try post(.DISPLAY_SUMMARY, other, otherId, "{}")
        XCTAssertEqual(add.0, 200)
        XCTAssertEqual(summary.0, 200)
        XCTAssertLessThan(add.1, 1.5, "ADD answered while 66 quotes waited 5 s")
        XCTAssertLessThan(summary.1, 1.5, "DISPLAY_SUMMARY answered while 66 quotes waited 5 s")
        XCTAssertEqual(try account(other)?.cash, 1_500)

        XCTAssertEqual(group.wait(timeout: .now() + 20), .success)
        let done = results.withLock { $0 }
        XCTAssertEqual(done.count, requests.count)
        XCTAssertTrue(done.allSatisfy { $0.0 == 200 }, "every parked QUOTE answered: \(done.map(\.0))")
        XCTAssertTrue(done.allSatisfy { $0.1 >= 4.9 }, "each waited for the slow quote server")
        XCTAssertEqual(flights.parked, 0)

        // One paid hit per symbol, logged once: the two extra QUOTEs shared the first one's.
        let stats = try TestEnv.signedClient.request(qs.endpoint, method: "GET", path: "/stats").json()
        XCTAssertEqual(stats["hits"]?.int64Value, Int64(symbols.count))
        let entries = try log(quoter)
        XCTAssertEqual(entries.filter { $0.kind == .quoteServer }.count, symbols.count)
        XCTAssertEqual(entries.filter { $0.kind == .userCommand && $0.command == .QUOTE }.count, requests.count)
    }
}
