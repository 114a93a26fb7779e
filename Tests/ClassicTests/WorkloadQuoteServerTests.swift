import Foundation
import ServiceCore
import Synchronization
import XCTest

/// The quote-server simulator the workload replays price against: both wire protocols, the
/// lenient request forms, signed keys, seeded walks, and latency that does not serialise requests.
/// Each test starts its own quote-server (ephemeral ports) from DT_TEST_BIN_DIR.
final class WorkloadQuoteServerTests: XCTestCase {
    /// A running quote-server child process and its ports.
    final class QuoteServerProcess: @unchecked Sendable { // ports are set once, in init
        let process = Process()
        var httpPort = 0
        var tcpPort = 0

        init(seed: String, delayMillis: Int = 0) throws {
            guard let bin = ProcessInfo.processInfo.environment["DT_TEST_BIN_DIR"], !bin.isEmpty else {
                throw WorkloadReplayEnv.Missing.env("DT_TEST_BIN_DIR is not set: run through scripts/test")
            }
            process.executableURL = URL(fileURLWithPath: bin + "/quote-server")
            var env = ProcessInfo.processInfo.environment
            env["DT_PORT"] = "0"
            env["DT_QUOTE_TCP_PORT"] = "0"
            env["DT_QUOTE_SEED"] = seed
            env["DT_QUOTE_DELAY_MS"] = String(delayMillis)
            env["DT_LOG_LEVEL"] = "info"
            env["DT_INTERNAL_KEY"] = env["DT_TEST_INTERNAL_KEY"]
            process.environment = env
            let pipe = Pipe()
            process.standardError = pipe
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            // Both listeners log their bound port at start-up.
            var buffer = ""
            let deadline = Date().addingTimeInterval(20)
            while (httpPort == 0 || tcpPort == 0) && Date() < deadline {
                let data = pipe.fileHandleForReading.availableData
                if data.isEmpty { break }
                buffer += String(decoding: data, as: UTF8.self)
                for line in buffer.split(separator: "\n") {
                    guard let json = try? JSON.parse(String(line)), let port = json["port"]?.int64Value else {
                        continue
                    }
                    if json["msg"]?.stringValue == "listening" { httpPort = Int(port) }
                    if json["msg"]?.stringValue == "line protocol listening" { tcpPort = Int(port) }
                }
            }
            guard httpPort > 0, tcpPort > 0 else {
                process.terminate()
                throw WorkloadReplayEnv.Missing.env("quote-server did not report its ports: \(buffer.prefix(500))")
            }
        }

        deinit {
            if process.isRunning {
                process.terminate()
                process.waitUntilExit()
            }
        }

        var endpoint: Endpoint { Endpoint(host: "127.0.0.1", port: httpPort) }

        func http(_ symbol: String, _ user: String) throws -> ClientResponse {
            try TestEnv.signedClient.request(
                endpoint, method: "GET", path: "/quote?symbol=\(symbol)&user=\(user)", timeoutMillis: 5000)
        }

        /// One legacy exchange: connect, send one line, read until the server closes.
        func line(_ request: String) throws -> String {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw WorkloadReplayEnv.Missing.env("socket failed") }
            defer { close(fd) }
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = in_port_t(UInt16(tcpPort).bigEndian)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            let ok = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard ok == 0 else { throw WorkloadReplayEnv.Missing.env("connect to the line protocol failed") }
            var timeout = timeval(tv_sec: 10, tv_usec: 0)
            _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            let bytes = Array(request.utf8)
            _ = bytes.withUnsafeBufferPointer { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            var out: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 512)
            while true {
                let n = chunk.withUnsafeMutableBufferPointer { recv(fd, $0.baseAddress, $0.count, 0) }
                if n <= 0 { break }
                out.append(contentsOf: chunk[0..<n])
            }
            return String(decoding: out, as: UTF8.self)
        }

        func verify(price: String, symbol: String, user: String, timestamp: String, key: String) throws -> Bool {
            let q =
                "price=\(price)&symbol=\(symbol)&user=\(user)&timestamp=\(timestamp)&cryptokey=\(WorkloadReplayTests.percentEncode(key))"
            let r = try TestEnv.signedClient.request(endpoint, method: "GET", path: "/verify?" + q, timeoutMillis: 5000)
            return (try r.json())["valid"]?.boolValue == true
        }
    }

    func testLineProtocolAcceptsEveryKnownRequestFormAndSignsReplies() throws {
        let qs = try QuoteServerProcess(seed: "line-forms")
        let before = Clock.wallMillis()
        for request in ["ABC,user1\n", "ABC user1\r\n", "user1,ABC\n", "ABC,user1"] {
            let reply = try qs.line(request)
            XCTAssertTrue(reply.hasSuffix("\n"), "reply ends with a newline: \(reply)")
            let f = reply.trimmingCharacters(in: .newlines).split(separator: ",", omittingEmptySubsequences: false).map(
                String.init)
            XCTAssertEqual(f.count, 5, "price,SYM,user,timestamp,cryptokey: \(reply)")
            guard f.count == 5 else { continue }
            XCTAssertEqual(f[1], "ABC")
            XCTAssertEqual(f[2], "user1")
            let cents = WorkloadMoney.cents(f[0]) ?? 0
            XCTAssertTrue(
                cents >= 100 && cents <= 500_000 && f[0].split(separator: ".").last?.count == 2, "price \(f[0])")
            let ts = Int64(f[3]) ?? 0
            XCTAssertTrue(ts >= before && ts <= Clock.wallMillis() + 1000, "timestamp \(f[3]) is the server's ms clock")
            XCTAssertEqual(f[4].count, 56)
            XCTAssertTrue(f[4].hasSuffix("=="))
            XCTAssertTrue(
                try qs.verify(price: f[0], symbol: f[1], user: f[2], timestamp: f[3], key: f[4]), "signed: \(reply)")
            XCTAssertFalse(
                try qs.verify(price: "1" + f[0], symbol: f[1], user: f[2], timestamp: f[3], key: f[4]),
                "a changed price fails")
            XCTAssertFalse(
                try qs.verify(price: f[0], symbol: f[1], user: "someoneelse", timestamp: f[3], key: f[4]),
                "another user fails")
        }
        // Bad input: 0.00 and NA for the user, as the course's sample client describes.
        for request in ["nonsense\n", "abcd,user1\n", "ABC,\n"] {
            let f = try qs.line(request).trimmingCharacters(in: .newlines).split(
                separator: ",", omittingEmptySubsequences: false)
            XCTAssertEqual(f.count, 5, request)
            XCTAssertEqual(f.first.map(String.init), "0.00", request)
            XCTAssertEqual(f.count > 2 ? String(f[2]) : "", "NA", request)
        }
        let stats = try JSON.parse(try TestEnv.signedClient.request(qs.endpoint, method: "GET", path: "/stats").body)
        XCTAssertEqual(stats["tcpHits"]?.int64Value, 4)
        XCTAssertEqual(stats["badRequests"]?.int64Value, 3)
    }

    func testHTTPQuotesAndBadSymbols() throws {
        let qs = try QuoteServerProcess(seed: "http")
        let r = try qs.http("XYZ", "bob")
        XCTAssertEqual(r.status, 200)
        let j = try r.json()
        XCTAssertEqual(j["symbol"]?.stringValue, "XYZ")
        XCTAssertEqual(j["user"]?.stringValue, "bob")
        let key = j["cryptokey"]?.stringValue ?? ""
        XCTAssertEqual(key.count, 56)
        XCTAssertTrue(
            try qs.verify(
                price: j["price"]?.stringValue ?? "", symbol: "XYZ", user: "bob",
                timestamp: j["timestamp"]?.int64Value.map { String($0) } ?? "", key: key))
        for bad in ["xyz", "ABCD", "", "A1"] {
            XCTAssertEqual(try qs.http(bad, "bob").status, 400, "symbol '\(bad)'")
        }
        let metrics = String(
            decoding: try TestEnv.signedClient.request(qs.endpoint, method: "GET", path: "/metrics").body, as: UTF8.self
        )
        XCTAssertTrue(metrics.contains("http_requests_total{route=\"GET /quote\",status=\"200\"} 1"), metrics)
    }

    func testSeededWalksRepeatAndStayInRange() throws {
        func series(_ seed: String, _ n: Int) throws -> [Int64] {
            let qs = try QuoteServerProcess(seed: seed)
            return try (0..<n).map { _ in
                WorkloadMoney.cents((try qs.http("WLK", "u").json())["price"]?.stringValue ?? "") ?? -1
            }
        }
        let a = try series("walk-1", 300)
        let b = try series("walk-1", 300)
        let c = try series("walk-2", 300)
        XCTAssertEqual(a, b, "same seed, same prices")
        XCTAssertNotEqual(a, c, "another seed, another walk")
        XCTAssertTrue(a.allSatisfy { $0 >= 100 && $0 <= 500_000 }, "prices stay within $1–$5,000")
        XCTAssertGreaterThan(Set(a).count, 100, "the price moves")
        let steps = zip(a, a.dropFirst()).map { Double(abs($1 - $0)) / Double($0) }
        XCTAssertLessThanOrEqual(steps.max() ?? 0, 0.05, "a random walk, not a new random price per hit")
    }

    func testLatencyDelaysEachAnswerWithoutSerialisingThem() throws {
        let qs = try QuoteServerProcess(seed: "slow", delayMillis: 400)
        let start = Date()
        let group = DispatchGroup()
        let results = Mutex<[Double]>([])
        for i in 0..<8 {
            group.enter()
            Thread {
                let t0 = Date()
                let ok =
                    (i % 2 == 0
                        ? (try? qs.http("SLW", "u\(i)").status == 200)
                        : (try? qs.line("SLW,u\(i)\n").hasPrefix("0.00") == false)) ?? false
                results.withLock { $0.append(ok ? Date().timeIntervalSince(t0) : -1) }
                group.leave()
            }.start()
        }
        group.wait()
        let total = Date().timeIntervalSince(start)
        let each = results.withLock { $0 }
        XCTAssertEqual(each.count, 8)
        XCTAssertTrue(each.allSatisfy { $0 >= 0.39 }, "every answer waited the 400 ms latency: \(each)")
        XCTAssertLessThan(total, 1.6, "8 delayed requests overlap (one after another would take 3.2 s)")
        // Latency can be changed at run time (scripts/bench-replay does this).
        let r = try TestEnv.signedClient.request(
            qs.endpoint, method: "POST", path: "/control", body: Array(#"{"delayMs":0}"#.utf8))
        XCTAssertEqual((try r.json())["delayMs"]?.int64Value, 0)
        let t0 = Date()
        _ = try qs.http("SLW", "fast")
        XCTAssertLessThan(Date().timeIntervalSince(t0), 0.3)
    }
}
