import CShim
import Foundation
import ServiceCore
import Synchronization
import XCTest

final class HTTPServerTests: XCTestCase {
    private func helloServer(_ options: HTTPServerOptions = HTTPServerOptions(), extra: (Router) -> Void = { _ in })
        throws -> TestServer
    {
        try TestServer(options: options) { r in
            r.get("/hello", mode: .inline) { _, _ in .text("hi") }
            r.post("/echo", mode: .blocking) { req, _ in HTTPResponse(status: 200, body: req.body) }
            r.get("/worker", mode: .blocking) { _, ctx in .text("w\(ctx.index)") }
            extra(r)
        }
    }

    /// After a bad request, a fresh connection must still be served normally.
    private func assertStillServing(_ port: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        let c = try RawClient(port: port)
        c.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        let r = c.readResponse()
        XCTAssertEqual(r?.status, 200, file: file, line: line)
        XCTAssertEqual(r?.body, "hi", file: file, line: line)
    }

    /// nginx reaches the services it fronts on a Unix socket (scripts/lib/services.sh): the same
    /// server answers there, keeps its TCP port, replaces a stale socket file left by a killed
    /// process, and removes its own at shutdown.
    func testUnixSocketServesBesideTCPAndIsRemovedAtShutdown() throws {
        let path = FileManager.default.temporaryDirectory.path + "/dt-\(UUID().uuidString.prefix(8)).sock"
        var options = HTTPServerOptions()
        options.unixPath = path
        options.loops = 2
        for round in ["fresh", "over a stale socket file"] {
            let s = try helloServer(options)
            let c = try RawClient(unixPath: path)
            for i in 0..<3 {
                c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n\(i)")
                let r = c.readResponse()
                XCTAssertEqual(r?.status, 200, round)
                XCTAssertEqual(r?.body, String(i), round)
            }
            try assertStillServing(s.port)
            s.stop()
            XCTAssertFalse(FileManager.default.fileExists(atPath: path), "\(round): removed at shutdown")
            // What kill -9 leaves behind: the socket file of a listener that is gone.
            let fd = cshim_listen_unix(path, 1)
            XCTAssertGreaterThanOrEqual(fd, 0)
            close(fd)
            XCTAssertTrue(FileManager.default.fileExists(atPath: path))
        }
        unlink(path)
    }

    func testKeepAliveServesManyRequestsOnOneConnection() throws {
        let s = try helloServer()
        defer { s.stop() }
        let c = try RawClient(port: s.port)
        for i in 0..<50 {
            c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: \(String(i).count)\r\n\r\n\(i)")
            let r = c.readResponse()
            XCTAssertEqual(r?.status, 200)
            XCTAssertEqual(r?.body, String(i))
            XCTAssertNil(r?.headers["connection"])
        }
    }

    func testPipelinedRequestsAnsweredInOrder() throws {
        let s = try helloServer()
        defer { s.stop() }
        let c = try RawClient(port: s.port)
        // Mix inline and worker-pool handlers: the blocking one must not be overtaken.
        c.send(
            "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\none" + "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"
                + "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nthree"
                + "GET /worker HTTP/1.1\r\nHost: x\r\n\r\n"
                + "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nConnection: close\r\n\r\nfive")
        XCTAssertEqual(c.readResponse()?.body, "one")
        XCTAssertEqual(c.readResponse()?.body, "hi")
        XCTAssertEqual(c.readResponse()?.body, "three")
        XCTAssertEqual(c.readResponse()?.body.hasPrefix("w"), true)
        let last = c.readResponse()
        XCTAssertEqual(last?.body, "five")
        XCTAssertEqual(last?.headers["connection"], "close")
        XCTAssertTrue(c.isClosedByPeer())
    }

    func testBodyArrivingInPieces() throws {
        let s = try helloServer()
        defer { s.stop() }
        let c = try RawClient(port: s.port)
        c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Le")
        usleep(20_000)
        c.send("ngth: 10\r\n\r\n01234")
        usleep(20_000)
        c.send("56789")
        XCTAssertEqual(c.readResponse()?.body, "0123456789")
    }

    func testMalformedRequestLineGets400AndServerKeepsServing() throws {
        let s = try helloServer()
        defer { s.stop() }
        for bad in [
            "GARBAGE\r\n\r\n", "GET\r\n\r\n", "GET /x HTTP/9\r\n\r\n", "GET nopath HTTP/1.1\r\nHost: x\r\n\r\n",
            "G(T / HTTP/1.1\r\nHost: x\r\n\r\n", "GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\n folded: x\r\n\r\n",
            "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
            "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx",
        ] {
            let c = try RawClient(port: s.port)
            c.send(bad)
            let r = c.readResponse()
            XCTAssertEqual(r?.status, 400, "for \(bad.debugDescription)")
            XCTAssertEqual(r?.headers["content-type"], "application/json")
            XCTAssertTrue(r?.body.contains("\"success\":false") ?? false)
            XCTAssertTrue(c.isClosedByPeer())
        }
        try assertStillServing(s.port)
    }

    func testUnsupportedVersionGets505() throws {
        let s = try helloServer()
        defer { s.stop() }
        let c = try RawClient(port: s.port)
        c.send("GET /hello HTTP/2.0\r\n\r\n")
        XCTAssertEqual(c.readResponse()?.status, 505)
    }

    func testOversizedHeaderBlockGets431() throws {
        let s = try helloServer()
        defer { s.stop() }
        let c = try RawClient(port: s.port)
        c.send("GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: " + String(repeating: "a", count: 20_000) + "\r\n\r\n")
        XCTAssertEqual(c.readResponse()?.status, 431)
        // Also when the client never ends the head at all.
        let c2 = try RawClient(port: s.port)
        c2.send("GET /hello HTTP/1.1\r\nHost: x\r\n" + String(repeating: "X-A: b\r\n", count: 3000))
        XCTAssertEqual(c2.readResponse()?.status, 431)
        try assertStillServing(s.port)
    }

    func testOversizedBodyGets413WithoutReadingIt() throws {
        let s = try helloServer()
        defer { s.stop() }
        let c = try RawClient(port: s.port)
        c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: \(2 * 1024 * 1024)\r\n\r\n")
        XCTAssertEqual(c.readResponse()?.status, 413)
        try assertStillServing(s.port)
    }

    func testChunkedBodyGets411() throws {
        let s = try helloServer()
        defer { s.stop() }
        let c = try RawClient(port: s.port)
        c.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
        XCTAssertEqual(c.readResponse()?.status, 411)
        try assertStillServing(s.port)
    }

    func testSlowClientGets408AndIdleClientIsClosed() throws {
        var opts = HTTPServerOptions()
        opts.requestTimeoutMillis = 300
        opts.idleTimeoutMillis = 400
        let s = try helloServer(opts)
        defer { s.stop() }
        // Begun but never finished: 408 then close.
        let slow = try RawClient(port: s.port)
        slow.send("GET /hello HTTP/1.1\r\nHost: x\r\n")
        let started = Date()
        XCTAssertEqual(slow.readResponse()?.status, 408)
        XCTAssertTrue(slow.isClosedByPeer())
        XCTAssertLessThan(Date().timeIntervalSince(started), 3)
        // Connected and silent: closed without a response.
        let idle = try RawClient(port: s.port)
        XCTAssertTrue(idle.isClosedByPeer())
        try assertStillServing(s.port)
    }

    func testHeadSendsTheGetHeadWithoutABody() throws {
        let s = try helloServer()
        defer { s.stop() }
        let c = try RawClient(port: s.port)
        // If HEAD's body were sent, it would be read as the start of the next response.
        c.send("HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        let head = c.readResponseHeadOnly()
        XCTAssertEqual(head?.status, 200)
        XCTAssertEqual(head?.headers["content-length"], "2")
        XCTAssertEqual(c.readResponse()?.body, "hi")
    }

    func testFileBodiesStreamInOrderAndTemporaryFilesAreDeleted() throws {
        let payload = (0..<(3 * 1024 * 1024)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let paths = PTPaths()
        let s = try helloServer { r in
            r.get("/file", mode: .blocking) { _, _ in
                let path = NSTemporaryDirectory() + "dt-test-\(UUID().uuidString)"
                FileManager.default.createFile(atPath: path, contents: Data(payload))
                paths.add(path)
                return try HTTPResponse.file(
                    path, deleteAfterSend: true, headers: [("Content-Type", "application/octet-stream")])
            }
        }
        defer { s.stop() }
        let c = try RawClient(port: s.port)
        // A request pipelined behind the file must be answered after all of the file's bytes.
        c.send(
            "GET /file HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\nHEAD /file HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        let first = c.readResponseBytes()
        XCTAssertEqual(first?.status, 200)
        XCTAssertEqual(first?.body.count, payload.count)
        XCTAssertTrue(first?.body == payload)
        XCTAssertEqual(c.readResponse()?.body, "hi")
        let head = c.readResponseHeadOnly()
        XCTAssertEqual(head?.headers["content-length"], String(payload.count))
        c.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(c.readResponse()?.body, "hi")
        for p in paths.all {
            XCTAssertFalse(FileManager.default.fileExists(atPath: p), "temporary body file left behind")
        }
    }

    func testUnknownRouteAndMethod() throws {
        let s = try helloServer()
        defer { s.stop() }
        let c = try RawClient(port: s.port)
        c.send("GET /nope HTTP/1.1\r\nHost: x\r\n\r\nDELETE /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(c.readResponse()?.status, 404)
        XCTAssertEqual(c.readResponse()?.status, 405)
    }

    func testHandlerErrorsBecomeJSONErrors() throws {
        let s = try helloServer { r in
            r.get("/teapot", mode: .blocking) { _, _ in throw HTTPError(418, "short and stout") }
            r.get("/boom", mode: .blocking) { _, _ in
                struct Boom: Error {}
                throw Boom()
            }
        }
        defer { s.stop() }
        let c = try RawClient(port: s.port)
        c.send("GET /teapot HTTP/1.1\r\nHost: x\r\n\r\nGET /boom HTTP/1.1\r\nHost: x\r\n\r\n")
        let a = c.readResponse()
        XCTAssertEqual(a?.status, 418)
        XCTAssertEqual(a?.body, #"{"success":false,"data":{"error":"short and stout"}}"#)
        XCTAssertEqual(c.readResponse()?.status, 500)
    }

    func testFullWorkerQueueAnswers503AtOnce() throws {
        var opts = HTTPServerOptions()
        opts.workers = 1
        opts.queueCapacity = 1
        let release = Gate()
        let entered = Gate()
        let s = try helloServer(opts) { r in
            r.get("/block", mode: .blocking) { _, _ in
                entered.open()
                _ = release.wait(seconds: 10)
                return .text("done")
            }
        }
        defer { s.stop() }
        let busy = try RawClient(port: s.port)
        busy.send("GET /block HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertTrue(entered.wait()) // the only worker is now held
        let queued = try RawClient(port: s.port)
        queued.send("GET /block HTTP/1.1\r\nHost: x\r\n\r\n") // fills the one queue slot
        let queuedBy = Date().addingTimeInterval(5)
        while !s.server.metrics.render().contains("worker_queue_depth 1") && Date() < queuedBy { usleep(1_000) }
        let rejected = try RawClient(port: s.port)
        let t0 = Date()
        rejected.send("GET /block HTTP/1.1\r\nHost: x\r\n\r\n")
        let r = rejected.readResponse()
        XCTAssertEqual(r?.status, 503)
        XCTAssertLessThan(Date().timeIntervalSince(t0), 1.0)
        release.open(2)
        XCTAssertEqual(busy.readResponse()?.body, "done")
        XCTAssertEqual(queued.readResponse()?.body, "done")
    }

    func testFiveHundredConcurrentKeepAliveConnections() throws {
        raiseFileLimit(to: 8192)
        var opts = HTTPServerOptions()
        opts.loops = 2
        opts.workers = 8
        let s = try helloServer(opts)
        defer { s.stop() }
        let clients = try (0..<600).map { _ in try RawClient(port: s.port) }
        for round in 0..<3 {
            for (i, c) in clients.enumerated() {
                let body = "\(round)-\(i)"
                c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
            }
            var errors = 0
            for (i, c) in clients.enumerated() where c.readResponse()?.body != "\(round)-\(i)" { errors += 1 }
            XCTAssertEqual(errors, 0, "round \(round)")
        }
    }

    func testConcurrentClientsFromManyThreads() throws {
        var opts = HTTPServerOptions()
        opts.loops = 2
        let s = try helloServer(opts)
        defer { s.stop() }
        let failures = Counter()
        DispatchQueue.concurrentPerform(iterations: 16) { t in
            guard let c = try? RawClient(port: s.port) else {
                failures.add()
                return
            }
            for i in 0..<200 {
                let body = "t\(t)i\(i)"
                c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
                if c.readResponse()?.body != body { failures.add() }
            }
        }
        XCTAssertEqual(failures.value, 0)
    }

    func testGracefulDrainFinishesInFlightRequest() throws {
        let entered = Gate()
        let release = Gate()
        let s = try helloServer { r in
            r.get("/slow", mode: .blocking) { _, _ in
                entered.open()
                _ = release.wait(seconds: 10)
                return .text("finished")
            }
        }
        let c = try RawClient(port: s.port)
        c.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertTrue(entered.wait())
        let idle = try RawClient(port: s.port)
        let stopped = Gate()
        Thread.detachNewThread {
            s.stop()
            stopped.open()
        }
        usleep(100_000)
        XCTAssertTrue(idle.isClosedByPeer()) // idle connections go at once
        release.open()
        let r = c.readResponse()
        XCTAssertEqual(r?.status, 200) // the in-flight request still completes
        XCTAssertEqual(r?.body, "finished")
        XCTAssertEqual(r?.headers["connection"], "close")
        XCTAssertTrue(stopped.wait())
        XCTAssertThrowsError(try RawClient(port: s.port, timeoutMillis: 500))
    }

    func testMetricsCountRequestsByRouteAndStatus() throws {
        let s = try helloServer()
        defer { s.stop() }
        let c = try RawClient(port: s.port)
        for _ in 0..<3 {
            c.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            _ = c.readResponse()
        }
        c.send("GET /missing HTTP/1.1\r\nHost: x\r\n\r\n")
        _ = c.readResponse()
        let text = s.server.metrics.render()
        XCTAssertTrue(text.contains(#"http_requests_total{route="GET /hello",status="200"} 3"#), text)
        XCTAssertTrue(text.contains(#"http_requests_total{route="unmatched",status="404"} 1"#))
        XCTAssertTrue(text.contains(#"http_request_duration_seconds_count{route="GET /hello"} 3"#))
        XCTAssertTrue(text.contains("worker_queue_depth 0"))
    }

    /// The Prometheus exposition from swift-prometheus: types, cumulative buckets with the old
    /// bounds, and gauges read at scrape time (dashboards read these names).
    func testMetricsExpositionFormat() throws {
        let s = try helloServer()
        defer { s.stop() }
        let c = try RawClient(port: s.port)
        for _ in 0..<2 {
            c.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            _ = c.readResponse()
        }
        let depth = Atomic<Int>(7)
        s.server.metrics.gauge("test_gauge") { depth.load(ordering: .relaxed) }
        var text = s.server.metrics.render()
        XCTAssertTrue(text.contains("# TYPE http_requests_total counter"), text)
        XCTAssertTrue(text.contains("# TYPE http_request_duration_seconds histogram"), text)
        XCTAssertTrue(text.contains(#"http_request_duration_seconds_bucket{route="GET /hello",le="10.0"} 2"#), text)
        XCTAssertTrue(text.contains(#"http_request_duration_seconds_bucket{route="GET /hello",le="+Inf"} 2"#), text)
        XCTAssertTrue(text.contains(#"http_request_duration_seconds_bucket{route="GET /hello",le="0.0005"}"#), text)
        XCTAssertTrue(text.contains("test_gauge 7"), text)
        depth.store(3, ordering: .relaxed)
        text = s.server.metrics.render()
        XCTAssertTrue(text.contains("test_gauge 3"), "gauges are read at each scrape:\n\(text)")
        XCTAssertEqual(text.components(separatedBy: "# TYPE test_gauge gauge").count, 2, "one TYPE line per family")
    }

    func testRandomGarbageNeverCrashesServer() throws {
        let s = try helloServer()
        defer { s.stop() }
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let c = try RawClient(port: s.port, timeoutMillis: 2000)
            let n = Int.random(in: 1...300, using: &rng)
            var bytes = (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
            bytes.append(contentsOf: Array("\r\n\r\n".utf8))
            c.send(bytes)
            if let r = c.readResponse() {
                XCTAssertTrue([400, 404, 405, 411, 413, 431, 505].contains(r.status), "\(r.status)")
            }
        }
        try assertStillServing(s.port)
    }
}

final class PTPaths: @unchecked Sendable {
    private let lock = NSLock()
    private var paths: [String] = []
    func add(_ p: String) {
        lock.lock()
        paths.append(p)
        lock.unlock()
    }
    var all: [String] {
        lock.lock()
        defer { lock.unlock() }
        return paths
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func add() {
        lock.lock()
        n += 1
        lock.unlock()
    }
    var value: Int {
        lock.lock()
        defer { lock.unlock() }
        return n
    }
}
