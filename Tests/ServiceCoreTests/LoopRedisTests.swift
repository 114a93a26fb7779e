import CShim
import Foundation
import ServiceCore
import XCTest

/// Async routes reading Redis on the event loop (`LoopRedis`) and handing blocking work to the
/// pool (`Responder.offload`), against the real Redis of scripts/test.
final class LoopRedisTests: XCTestCase {
    private func redisTarget() throws -> RedisTarget {
        guard let ep = Endpoint(try TestEnv.require("DT_TEST_REDIS")) else {
            throw RedisError(message: "bad DT_TEST_REDIS")
        }
        return RedisTarget(ep, password: ProcessInfo.processInfo.environment["DT_TEST_REDIS_PASSWORD"])
    }

    /// A server whose `/redis?key=K&value=V` SETs then GETs K through the loop's connection to
    /// `target` (answering the GET's text, or `nil` when Redis gave no answer), and whose only
    /// worker can be held by `/block`.
    private func server(
        _ target: RedisTarget, timeoutMillis: UInt64 = 250, workers: Int = 1,
        extra: (Router) -> Void = { _ in }
    ) throws -> TestServer {
        var opts = HTTPServerOptions()
        opts.loops = 1
        opts.workers = workers
        return try TestServer(options: opts) { r in
            r.get("/hello", mode: .inline) { _, _ in .text("hi") }
            r.getAsync("/redis") { request, responder in
                let redis = responder.context.local(LoopRedis.self) {
                    LoopRedis(target, io: responder.io, timeoutMillis: timeoutMillis, retryMillis: 200)
                }
                let key = request.queryParam("key") ?? "k"
                let value = request.queryParam("value") ?? "v"
                redis.send(["SET", key, value, "EX", "30"]) { _ in }
                redis.send(["GET", key]) { reply in
                    responder.respond(.text(reply.map { $0.text ?? "\($0)" } ?? "nil"))
                }
            }
            extra(r)
        }
    }

    func testRESPRepliesWholeAndSplit() {
        let wire = Array(
            "+OK\r\n-ERR bad\r\n:-42\r\n$5\r\na\r\nbc\r\n$-1\r\n*3\r\n$1\r\nx\r\n:7\r\n*-1\r\n$0\r\n\r\n".utf8)
        let expected: [RedisReply] = [
            .status("OK"), .error("ERR bad"), .integer(-42), .string(Array("a\r\nbc".utf8)), .null,
            .array([.string([UInt8(ascii: "x")]), .integer(7), .null]), .string([]),
        ]
        var got: [RedisReply] = []
        var pos = 0
        while pos < wire.count {
            guard
                case .reply(let r, let n) = wire.withUnsafeBytes({
                    RESP.parse(UnsafeRawBufferPointer(rebasing: $0[pos...]))
                })
            else {
                return XCTFail("no reply at \(pos)")
            }
            got.append(r)
            pos += n
        }
        XCTAssertEqual(got, expected)
        // Every proper prefix of a reply is incomplete, never a wrong reply.
        let array = Array("*2\r\n$3\r\nabc\r\n:12\r\n".utf8)
        for cut in 0..<array.count {
            XCTAssertEqual(
                array.withUnsafeBytes { RESP.parse(UnsafeRawBufferPointer(rebasing: $0[..<cut])) }, .incomplete,
                "cut \(cut)")
        }
        for bad in [
            "?x\r\n", ":12a\r\n", "$3\r\nabcd\r\n", "$-5\r\n", "*x\r\n",
            String(repeating: "*1\r\n", count: 12) + ":1\r\n",
        ] {
            guard case .invalid = Array(bad.utf8).withUnsafeBytes({ RESP.parse($0) }) else {
                return XCTFail("accepted \(bad.debugDescription)")
            }
        }
        var out: [UInt8] = []
        RESP.encode([Array("GET".utf8), Array("k\r\n".utf8)], into: &out)
        XCTAssertEqual(String(decoding: out, as: UTF8.self), "*2\r\n$3\r\nGET\r\n$3\r\nk\r\n\r\n")
    }

    /// The read is answered while the server's only worker is held: no worker is involved.
    /// The local stack's services reach Redis on its Unix socket (`unix:/path`, scripts/lib/redis.sh):
    /// the blocking connection (hiredis) and the loop's connection both work there.
    func testBothRedisClientsWorkOverAUnixSocket() throws {
        let path = try TestEnv.require("DT_TEST_STATE") + "/redis/redis.sock"
        guard FileManager.default.fileExists(atPath: path) else {
            throw XCTSkip("the test stack's Redis has no Unix socket (UNIX_UPSTREAMS=0, or a path over 100 bytes)")
        }
        let target = RedisTarget(
            try XCTUnwrap(Endpoint("unix:" + path)),
            password: ProcessInfo.processInfo.environment["DT_TEST_REDIS_PASSWORD"])
        let key = "test:unix:\(UInt32.random(in: 0...UInt32.max))"
        let blocking = try RedisConnection(target)
        XCTAssertEqual(try blocking.command(["SET", key, "b", "EX", "30"]), .status("OK"))
        XCTAssertEqual(try blocking.command(["GET", key]).text, "b")
        let s = try server(target)
        defer { s.stop() }
        let c = try RawClient(port: s.port)
        for i in 0..<3 {
            c.send("GET /redis?key=\(key)&value=u\(i) HTTP/1.1\r\nHost: x\r\n\r\n")
            XCTAssertEqual(c.readResponse()?.body, "u\(i)", "an answer from Redis, not a miss")
        }
    }

    func testRedisReadOnTheLoopNeedsNoWorker() throws {
        let release = Gate()
        let entered = Gate()
        let s = try server(try redisTarget()) { r in
            r.get("/block", mode: .blocking) { _, _ in
                entered.open()
                _ = release.wait(seconds: 10)
                return .text("done")
            }
        }
        defer { s.stop() }
        let busy = try RawClient(port: s.port)
        busy.send("GET /block HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertTrue(entered.wait())
        let c = try RawClient(port: s.port)
        let key = "test:loop:\(UInt32.random(in: 0...UInt32.max))"
        for i in 0..<20 { // keep-alive, and pipelined pairs share the connection's queue
            c.send("GET /redis?key=\(key)&value=v\(i) HTTP/1.1\r\nHost: x\r\n\r\n")
            XCTAssertEqual(c.readResponse()?.body, "v\(i)")
        }
        c.send(
            "GET /redis?key=\(key)a&value=1 HTTP/1.1\r\nHost: x\r\n\r\nGET /redis?key=\(key)b&value=2 HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        XCTAssertEqual(c.readResponse()?.body, "1")
        XCTAssertEqual(c.readResponse()?.body, "2")
        release.open()
        XCTAssertEqual(busy.readResponse()?.body, "done")
    }

    /// Nothing listens on the port: the answer comes at once, not after a connect timeout.
    func testRedisDownAnswersAtOnce() throws {
        let fd = cshim_listen_tcp("127.0.0.1", 0, 1, 0)
        XCTAssertGreaterThanOrEqual(fd, 0)
        let port = Int(cshim_local_port(fd))
        close(fd)
        // A timeout far above the limit: a refused connect must not be mistaken for a slow one.
        let s = try server(RedisTarget(Endpoint(host: "127.0.0.1", port: port), password: nil), timeoutMillis: 2000)
        defer { s.stop() }
        let c = try RawClient(port: s.port)
        for _ in 0..<3 {
            let t0 = Date()
            c.send("GET /redis HTTP/1.1\r\nHost: x\r\n\r\n")
            XCTAssertEqual(c.readResponse()?.body, "nil")
            XCTAssertLessThan(Date().timeIntervalSince(t0), 1.0)
        }
    }

    /// A Redis that accepts but never answers (hung, or a black hole): the loop keeps serving
    /// other requests meanwhile, and the read gives up after its timeout.
    func testHungRedisTimesOutWithoutStallingTheLoop() throws {
        let hole = cshim_listen_tcp("127.0.0.1", 0, 16, 0) // the kernel completes connects; nobody reads
        XCTAssertGreaterThanOrEqual(hole, 0)
        defer { close(hole) }
        let s = try server(
            RedisTarget(Endpoint(host: "127.0.0.1", port: Int(cshim_local_port(hole))), password: nil),
            timeoutMillis: 1500)
        defer { s.stop() }
        let slow = try RawClient(port: s.port)
        let t0 = Date()
        slow.send("GET /redis HTTP/1.1\r\nHost: x\r\n\r\n")
        let other = try RawClient(port: s.port)
        other.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(other.readResponse()?.body, "hi")
        XCTAssertLessThan(Date().timeIntervalSince(t0), 1.0, "the loop answered while the Redis read waited")
        XCTAssertEqual(slow.readResponse()?.body, "nil")
        let waited = Date().timeIntervalSince(t0)
        XCTAssertGreaterThanOrEqual(waited, 1.5)
        XCTAssertLessThan(waited, 3.0, "bounded by the timeout plus one tick")
    }

    /// Names are looked up off the calling thread: `address()` never waits for DNS.
    func testHostResolverNeverBlocksTheCaller() {
        XCTAssertEqual(HostResolver("127.0.0.1").address(), "127.0.0.1", "a numeric host needs no lookup")
        let local = HostResolver("localhost")
        let nowhere = HostResolver("no-such-host.invalid")
        var found: String?
        let deadline = Date().addingTimeInterval(5)
        while found == nil && Date() < deadline {
            let t0 = Date()
            found = local.address()
            _ = nowhere.address()
            // A blocking lookup of `.invalid` takes seconds; 0.5 s leaves room for a preempted thread.
            XCTAssertLessThan(Date().timeIntervalSince(t0), 0.5, "address() waited")
            if found == nil { usleep(5_000) }
        }
        let address = try? XCTUnwrap(found, "localhost was never resolved")
        var v4 = in_addr()
        var v6 = in6_addr()
        XCTAssertTrue(
            inet_pton(AF_INET, address ?? "", &v4) == 1 || inet_pton(AF_INET6, address ?? "", &v6) == 1,
            "\(address ?? "nil") is not numeric")
        XCTAssertNil(nowhere.address(), "an unknown name has no address")
    }

    /// `offload` runs on a worker and answers back on the loop; with the pool full it gets 503.
    func testOffloadAnswersFromAWorkerAnd503WhenThePoolIsFull() throws {
        var opts = HTTPServerOptions()
        opts.loops = 1
        opts.workers = 1
        opts.queueCapacity = 1
        let release = Gate()
        let entered = Gate()
        let s = try TestServer(options: opts) { r in
            r.getAsync("/off") { request, responder in
                let hold = request.queryParam("hold") == "1"
                responder.offload({ ctx -> String in
                    if hold {
                        entered.open()
                        _ = release.wait(seconds: 10)
                    }
                    return "worker \(ctx.index)"
                }) { result in
                    switch result {
                    case .success(let text): responder.respond(.text(text))
                    case .failure(let error): responder.fail(error)
                    }
                }
            }
        }
        defer { s.stop() }
        let c = try RawClient(port: s.port)
        c.send("GET /off HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(c.readResponse()?.body, "worker 0")
        let held = try RawClient(port: s.port)
        held.send("GET /off?hold=1 HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertTrue(entered.wait())
        let queued = try RawClient(port: s.port)
        queued.send("GET /off HTTP/1.1\r\nHost: x\r\n\r\n") // takes the one queue slot
        let deadline = Date().addingTimeInterval(5)
        while !s.server.metrics.render().contains("worker_queue_depth 1\n") && Date() < deadline { usleep(1000) }
        c.send("GET /off HTTP/1.1\r\nHost: x\r\n\r\n")
        let refused = c.readResponse()
        XCTAssertEqual(refused?.status, 503)
        XCTAssertEqual(refused?.headers["content-type"], "application/json")
        release.open()
        XCTAssertEqual(held.readResponse()?.body, "worker 0")
        XCTAssertEqual(queued.readResponse()?.body, "worker 0")
    }
}
