import Benchmark
import Foundation
import OrderBook
@_spi(Benchmarks) import ServiceCore

// Per-call costs on the hot paths: the order book, the request-head and JSON parsers, and what
// each request or log line costs in metrics and logging, old (hand-written) against new (libraries).
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        warmupIterations: 1_000,
        scalingFactor: .kilo,
        maxDuration: .seconds(2),
        maxIterations: 100_000)

    // --- order book ---------------------------------------------------------------------------
    Benchmark("OrderBook: rest a limit order, then cancel it") { benchmark in
        var book = OrderBook(expectedOrders: 4096)
        var fills: [Fill] = []
        fills.reserveCapacity(16)
        // A book with depth on both sides, so each new order lands among existing levels.
        for i in 0..<1_000 {
            let side: Side = i % 2 == 0 ? .buy : .sell
            let price: Int64 = side == .buy ? 10_000 - Int64(i % 200) : 10_100 + Int64(i % 200)
            _ = book.submit(
                Order(id: Int64(i + 1), owner: 1, side: side, kind: .limit, quantity: 10, price: price),
                fills: &fills)
        }
        var id: Int64 = 1_000_000
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            id += 1
            let price = 9_900 + Int64(i % 150)
            blackHole(
                book.submit(Order(id: id, owner: 2, side: .buy, kind: .limit, quantity: 5, price: price), fills: &fills)
            )
            blackHole(try? book.cancel(orderId: id, owner: 2))
        }
    }

    Benchmark("OrderBook: a crossing limit order filled against one maker") { benchmark in
        var book = OrderBook(expectedOrders: 4096)
        var fills: [Fill] = []
        fills.reserveCapacity(16)
        var id: Int64 = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            id += 2
            _ = book.submit(
                Order(id: id, owner: 1, side: .sell, kind: .limit, quantity: 10, price: 10_000), fills: &fills)
            fills.removeAll(keepingCapacity: true)
            blackHole(
                book.submit(
                    Order(id: id + 1, owner: 2, side: .buy, kind: .limit, quantity: 10, price: 10_000),
                    fills: &fills))
            fills.removeAll(keepingCapacity: true)
        }
    }

    // --- parsers ------------------------------------------------------------------------------
    let head = Array(
        ("GET /engine/getWalletBalance HTTP/1.1\r\nHost: localhost\r\nUser-Agent: dts-load\r\n"
            + "Accept: application/json\r\ntoken: eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJl\r\n"
            + "Connection: keep-alive\r\n\r\n").utf8)
    Benchmark("HTTP: parse a request head (6 headers, token)") { benchmark in
        head.withUnsafeBufferPointer { buf in
            for _ in benchmark.scaledIterations { blackHole(BenchmarkProbes.parseHead(buf)) }
        }
    }

    let order = Array(
        #"{"stock_id":"6f1c2a9e-7d1b-4c55-9a63-1d2e3f4a5b6c","is_buy":true,"order_type":"LIMIT","quantity":10,"price":25}"#
            .utf8)
    Benchmark("JSON: parse a placeStockOrder body") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try? JSON.parse(order)) }
    }

    // --- metrics per request: hand-written vs swift-metrics + swift-prometheus --------------------
    Benchmark("Metrics per request: hand-written (before)") { benchmark in
        let metrics = LegacyMetrics(shards: 1)
        for i in benchmark.scaledIterations {
            metrics.record(shard: 0, route: "GET /hello/", status: 200, seconds: Double(i % 50) * 0.0001)
        }
    }
    Benchmark("Metrics per request: swift-metrics + swift-prometheus (after)") { benchmark in
        let metrics = BenchmarkProbes.metrics(shards: 1)
        let route = BenchmarkProbes.Label("GET /hello/")
        for i in benchmark.scaledIterations {
            BenchmarkProbes.record(metrics, shard: 0, route: route, status: 200, seconds: Double(i % 50) * 0.0001)
        }
    }

    // --- one log line to /dev/null: hand-written vs swift-log + JSONLogHandler -----------------
    let devNull = open("/dev/null", O_WRONLY)
    Benchmark("Log line with 3 fields: hand-written (before)") { benchmark in
        let logger = LegacyLogger(service: "bench", minimum: .info, fd: devNull)
        for i in benchmark.scaledIterations {
            logger.log(
                .warn, "request failed", [("route", .string("GET /x")), ("status", .int(503)), ("attempt", .int(i))])
        }
    }
    Benchmark("Log line with 3 fields: swift-log + JSONLogHandler (after)") { benchmark in
        let logger = Logger(label: "bench") { _ in JSONLogHandler(service: "bench", level: .info, fd: devNull) }
        for i in benchmark.scaledIterations {
            logger.warning(
                "request failed",
                metadata: [
                    "route": "GET /x", "status": .stringConvertible(503),
                    "attempt": .stringConvertible(i),
                ])
        }
    }
    Benchmark("Log call below the level: hand-written (before)") { benchmark in
        let logger = LegacyLogger(service: "bench", minimum: .info, fd: devNull)
        for i in benchmark.scaledIterations { logger.log(.debug, "dropped", [("i", .int(i))]) }
    }
    Benchmark("Log call below the level: swift-log (after)") { benchmark in
        let logger = Logger(label: "bench") { _ in JSONLogHandler(service: "bench", level: .info, fd: devNull) }
        for i in benchmark.scaledIterations { logger.debug("dropped", metadata: ["i": .stringConvertible(i)]) }
    }
}
