import Foundation
import ServiceCore
import XCTest

/// Gateway behaviour that needs its own settings (low rate limits, short breaker timings, dead or
/// hanging upstreams): each test starts a gateway executable of its own, and where useful an
/// in-process HTTP server as the upstream, so what the gateway forwards can be seen exactly.
final class SecurityGatewayTests: XCTestCase {
    private var started: [EdgeProcess] = []
    private var servers: [HTTPServer] = []
    private let secret = "gateway-test-" + EdgeEnv.uniqueName("secret")

    override func tearDown() {
        for p in started { p.stop() }
        for s in servers {
            s.shutdown()
            s.wait()
        }
        started = []
        servers = []
        HTTPClient.shared.closeIdle()
        super.tearDown()
    }

    private func gateway(_ env: [String: String]) throws -> EdgeProcess {
        // No per-user limit unless a test sets one: the breaker tests send bursts as one user.
        var all = ["DT_JWT_SECRET": secret, "DT_WORKERS": "32", "DT_RATE_USER_RPS": "0"]
        for (k, v) in env { all[k] = v }
        let p = try EdgeProcess("gateway", env: all)
        started.append(p)
        return p
    }

    /// An auth instance on the test database, on `port` (0: any).
    private func auth(port: Int = 0) throws -> EdgeProcess {
        var env = [
            "DT_JWT_SECRET": secret, "DT_PG": try EdgeEnv.require("DT_TEST_PG"), "DT_WORKERS": "4",
            "DT_PG_PASSWORD": try EdgeEnv.require("DT_TEST_PG_PASSWORD"),
            "DT_REDIS": try EdgeEnv.require("DT_TEST_REDIS"),
            "DT_REDIS_PASSWORD": try EdgeEnv.require("DT_TEST_REDIS_PASSWORD"),
        ]
        // Same admin password as the stack's auth, so this instance's start-up check changes nothing.
        if let admin = EdgeEnv.adminPassword() { env["DT_ADMIN_PASSWORD"] = admin }
        let p = try EdgeProcess("auth", env: env, port: port)
        started.append(p)
        return p
    }

    /// An in-process upstream: `handler` answers every request.
    private func upstream(_ handler: @escaping Handler) throws -> Endpoint {
        let router = Router()
        router.setFallback(mode: .blocking, handler)
        var options = HTTPServerOptions()
        options.port = 0
        options.loops = 1
        options.workers = 8
        let config = ServiceConfig(name: "fake-upstream", environment: [:])
        let server = HTTPServer(
            options: options, router: router, logger: Logger.json(service: "fake-upstream", level: .error)
        ) {
            WorkerContext(config: config, index: $0)
        }
        try server.start()
        servers.append(server)
        return Endpoint(host: "127.0.0.1", port: server.port)
    }

    private func token(sub: String = "42", name: String = "tester", role: String = "user") -> String {
        let now = EdgeJWT.nowSeconds
        return JWT(secret: secret).sign(
            JWTClaims(subject: sub, name: name, role: role, issuedAt: now, expiresAt: now + 600))
    }

    // MARK: forwarding

    func testForwardsRequestAndSetsOnlyItsOwnIdentityHeaders() throws {
        let echo = try upstream { request, _ in
            let headers = JSON.object(request.headers.map { ($0.name, .string($0.value)) })
            return .json(
                .object([
                    ("method", .string(request.method)), ("path", .string(request.path)),
                    ("query", .string(request.query)),
                    ("body", .string(String(decoding: request.body, as: UTF8.self))), ("headers", headers),
                ]),
                status: 201)
        }
        let gw = try gateway(["DT_UPSTREAM_ENGINE": echo.description])
        let r = try EdgeHTTP.call(
            gw.endpoint, "POST", "/engine/placeStockOrder?a=1&b=two",
            headers: [
                ("token", token(sub: "42", name: "tester")), ("x-user-id", "1"), ("x-user-name", "admin"),
                ("x-user-role", "admin"), ("x-user-anything", "z"), ("x-request-id", "mine"),
                ("x-real-ip", "10.1.2.3"), ("cookie", "secret=1"),
            ],
            body: #"{"quantity":10}"#)
        XCTAssertEqual(r.status, 201, "upstream status passes through")
        let seen = try XCTUnwrap(r.json, r.text)
        XCTAssertEqual(seen["method"]?.stringValue, "POST")
        XCTAssertEqual(seen["path"]?.stringValue, "/engine/placeStockOrder")
        XCTAssertEqual(seen["query"]?.stringValue, "a=1&b=two")
        XCTAssertEqual(seen["body"]?.stringValue, #"{"quantity":10}"#)
        let h = try XCTUnwrap(seen["headers"])
        XCTAssertEqual(h["x-user-id"]?.stringValue, "42")
        XCTAssertEqual(h["x-user-name"]?.stringValue, "tester")
        XCTAssertEqual(h["x-user-role"]?.stringValue, "user")
        XCTAssertEqual(h["content-type"]?.stringValue, "application/json")
        XCTAssertEqual(h["x-real-ip"]?.stringValue, "10.1.2.3")
        XCTAssertEqual(h["x-request-id"]?.stringValue, r.header("x-request-id"))
        XCTAssertNotEqual(h["x-request-id"]?.stringValue, "mine")
        guard case .object(let pairs) = h else { return XCTFail("headers not an object") }
        XCTAssertEqual(
            pairs.filter { $0.0.hasPrefix("x-user-") }.count, 3,
            "only the gateway's own x-user-* headers: \(pairs.map(\.0))")
        XCTAssertFalse(
            pairs.contains { ["token", "authorization", "cookie", "x-user-anything"].contains($0.0) },
            "\(pairs.map(\.0))")
    }

    func testRoutesEachPathToItsUpstreamGroup() throws {
        var env: [String: String] = [:]
        for (key, label) in [
            ("DT_UPSTREAM_AUTH", "auth"), ("DT_UPSTREAM_ENGINE", "engine"), ("DT_UPSTREAM_UTIL", "util"),
            ("DT_UPSTREAM_BUY", "buy"), ("DT_UPSTREAM_SELL", "sell"),
        ] {
            env[key] = try upstream { _, _ in .json(.object([("served_by", .string(label))])) }.description
        }
        let gw = try gateway(env)
        let t = token()
        let expect: [(String, String)] = [
            ("/authentication/login", "auth"), ("/authentication/whoami", "auth"), ("/setup/createStock", "engine"),
            ("/transaction/getStockPrices", "engine"), ("/engine/cancelStockTransaction", "engine"),
            ("/classic/ADD", "util"), ("/classic/QUOTE", "util"), ("/classic/DISPLAY_SUMMARY", "util"),
            ("/classic/DUMPLOG", "util"),
            ("/classic/RECENT_TRANSACTIONS", "util"), ("/classic/BUY", "buy"), ("/classic/COMMIT_BUY", "buy"),
            ("/classic/CANCEL_BUY", "buy"),
            ("/classic/SET_BUY_AMOUNT", "buy"), ("/classic/SET_BUY_TRIGGER", "buy"), ("/classic/CANCEL_SET_BUY", "buy"),
            ("/classic/SELL", "sell"), ("/classic/COMMIT_SELL", "sell"), ("/classic/CANCEL_SELL", "sell"),
            ("/classic/SET_SELL_AMOUNT", "sell"), ("/classic/SET_SELL_TRIGGER", "sell"),
            ("/classic/CANCEL_SET_SELL", "sell"),
        ]
        for (path, label) in expect {
            let r = try EdgeHTTP.call(gw.endpoint, "POST", path, headers: [("token", t)], body: "{}")
            XCTAssertEqual(r.json?["served_by"]?.stringValue, label, "\(path): \(r.status) \(r.text)")
        }
    }

    // MARK: rate limits

    func testPerUserLimitAnswers429WithRetryAfter() throws {
        let ok = try upstream { _, _ in .json(.object([("success", .bool(true))])) }
        let gw = try gateway(["DT_UPSTREAM_ENGINE": ok.description, "DT_RATE_USER_RPS": "1", "DT_RATE_USER_BURST": "3"])
        let alice = token(sub: "1001", name: "alice")
        let bob = token(sub: "1002", name: "bob")
        for i in 0..<3 {
            XCTAssertEqual(
                try EdgeHTTP.call(gw.endpoint, "GET", "/transaction/getWalletBalance", headers: [("token", alice)])
                    .status, 200, "request \(i)")
        }
        let limited = try EdgeHTTP.call(
            gw.endpoint, "GET", "/transaction/getWalletBalance", headers: [("token", alice)])
        XCTAssertEqual(limited.status, 429)
        XCTAssertTrue(limited.isErrorEnvelope, limited.text)
        let retry = try XCTUnwrap(Int(limited.header("retry-after") ?? ""), "Retry-After in whole seconds")
        XCTAssertGreaterThanOrEqual(retry, 1)
        XCTAssertLessThanOrEqual(retry, 2)
        // Another user has a bucket of their own.
        XCTAssertEqual(
            try EdgeHTTP.call(gw.endpoint, "GET", "/transaction/getWalletBalance", headers: [("token", bob)]).status,
            200)
        // After Retry-After the bucket has a token again.
        Thread.sleep(forTimeInterval: Double(retry) + 0.05)
        XCTAssertEqual(
            try EdgeHTTP.call(gw.endpoint, "GET", "/transaction/getWalletBalance", headers: [("token", alice)]).status,
            200)
    }

    func testPerIPLimitUsesTheAddressNginxReports() throws {
        let ok = try upstream { _, _ in .error(400, "invalid user name or password") }
        let gw = try gateway([
            "DT_UPSTREAM_AUTH": ok.description, "DT_RATE_IP_RPS": "0.5", "DT_RATE_IP_BURST": "2",
            "DT_RATE_USER_RPS": "0",
        ])
        func login(_ ip: String) throws -> EdgeResponse {
            try EdgeHTTP.call(gw.endpoint, "POST", "/authentication/login", headers: [("x-real-ip", ip)], body: "{}")
        }
        XCTAssertEqual(try login("10.0.0.1").status, 400)
        XCTAssertEqual(try login("10.0.0.1").status, 400)
        let limited = try login("10.0.0.1")
        XCTAssertEqual(limited.status, 429, "public routes are limited per IP too")
        XCTAssertEqual(limited.header("retry-after"), "2")
        XCTAssertEqual(try login("10.0.0.2").status, 400, "a different client IP is not affected")
        // X-Forwarded-For: only the hop nginx appended (the last) counts, not what the client claimed.
        let xff = { (chain: String) in
            try EdgeHTTP.call(
                gw.endpoint, "POST", "/authentication/login", headers: [("x-forwarded-for", chain)], body: "{}"
            ).status
        }
        XCTAssertEqual(try xff("1.1.1.1, 10.0.0.3"), 400)
        XCTAssertEqual(try xff("2.2.2.2, 10.0.0.3"), 400)
        XCTAssertEqual(try xff("3.3.3.3, 10.0.0.3"), 429, "a forged first hop does not buy a new bucket")
    }

    // MARK: circuit breaker and failures

    func testDeadInstanceTripsItsBreakerWhileRequestsSucceed() throws {
        let live = try EdgeEnv.service(defaultPort: 8100)
        let dead = Endpoint(host: "127.0.0.1", port: edgeFreePort())
        let gw = try gateway([
            "DT_UPSTREAM_AUTH": "\(live),\(dead)", "DT_BREAKER_FAILURES": "2", "DT_BREAKER_OPEN_MS": "600000",
        ])
        let t = token()
        for i in 0..<20 {
            let r = try EdgeHTTP.whoami(gw.endpoint, token: t)
            XCTAssertEqual(r.status, 200, "request \(i): \(r.text)")
        }
        let d = try gw.upstreamStatus("auth", dead)
        let l = try gw.upstreamStatus("auth", live)
        XCTAssertEqual(d.breaker, "open")
        XCTAssertEqual(d.timesOpened, 1)
        XCTAssertEqual(d.requests, 2, "after 2 failures the open breaker keeps traffic away")
        XCTAssertEqual(l.requests, 20)
        XCTAssertEqual(l.breaker, "closed")
    }

    func testHalfOpenProbeClosesTheBreakerWhenTheInstanceReturns() throws {
        let live = try EdgeEnv.service(defaultPort: 8100)
        let laterPort = edgeFreePort()
        let later = Endpoint(host: "127.0.0.1", port: laterPort)
        let gw = try gateway([
            "DT_UPSTREAM_AUTH": "\(live),\(later)", "DT_BREAKER_FAILURES": "1", "DT_BREAKER_OPEN_MS": "300",
        ])
        let t = token()
        for _ in 0..<4 { XCTAssertEqual(try EdgeHTTP.whoami(gw.endpoint, token: t).status, 200) }
        XCTAssertGreaterThanOrEqual(try gw.upstreamStatus("auth", later).timesOpened, 1)

        _ = try auth(port: laterPort)
        // Once the open period ends, one probe reaches the new instance and closes the breaker.
        let deadline = Date().addingTimeInterval(10)
        var status = try gw.upstreamStatus("auth", later)
        while Date() < deadline && !(status.breaker == "closed" && status.requests > status.failures) {
            XCTAssertEqual(try EdgeHTTP.whoami(gw.endpoint, token: t).status, 200)
            status = try gw.upstreamStatus("auth", later)
            usleep(20_000)
        }
        XCTAssertEqual(status.breaker, "closed")
        XCTAssertGreaterThan(status.requests, status.failures, "the returned instance serves requests")
    }

    func testKilledInstanceTripsTheBreakerAndTrafficMovesToTheOther() throws {
        let a = try auth()
        let b = try auth()
        let gw = try gateway([
            "DT_UPSTREAM_AUTH": "\(a.endpoint),\(b.endpoint)", "DT_BREAKER_FAILURES": "2",
            "DT_BREAKER_OPEN_MS": "600000",
        ])
        // Real logins through the spawned gateway, spread over both instances.
        let user = EdgeEnv.uniqueName("kill")
        let password = "kill-test-password"
        XCTAssertEqual(try EdgeHTTP.register(gw.endpoint, user, password).status, 200)
        for _ in 0..<6 { XCTAssertEqual(try EdgeHTTP.login(gw.endpoint, user, password).status, 200) }
        XCTAssertGreaterThan(try gw.upstreamStatus("auth", a.endpoint).requests, 0)
        XCTAssertGreaterThan(try gw.upstreamStatus("auth", b.endpoint).requests, 0)

        a.kill9()
        let t = token()
        var statuses: [Int] = []
        for _ in 0..<12 { statuses.append(try EdgeHTTP.whoami(gw.endpoint, token: t).status) }
        for _ in 0..<6 { statuses.append(try EdgeHTTP.login(gw.endpoint, user, password).status) }
        XCTAssertEqual(
            statuses, Array(repeating: 200, count: 18), "every request after the kill is served by the survivor")
        let sa = try gw.upstreamStatus("auth", a.endpoint)
        XCTAssertEqual(sa.breaker, "open")
        XCTAssertEqual(sa.timesOpened, 1)
        XCTAssertEqual(try gw.upstreamStatus("auth", b.endpoint).breaker, "closed")
    }

    func testNoReachableInstanceIs502ThenOpenBreakerIs503() throws {
        let dead = Endpoint(host: "127.0.0.1", port: edgeFreePort())
        let gw = try gateway([
            "DT_UPSTREAM_AUTH": dead.description, "DT_BREAKER_FAILURES": "1", "DT_BREAKER_OPEN_MS": "600000",
        ])
        let first = try EdgeHTTP.login(gw.endpoint, "x", "y")
        XCTAssertEqual(first.status, 502, first.text)
        XCTAssertTrue(first.isErrorEnvelope)
        let second = try EdgeHTTP.login(gw.endpoint, "x", "y")
        XCTAssertEqual(second.status, 503, second.text)
        XCTAssertTrue(second.isErrorEnvelope)
        XCTAssertEqual(try gw.upstreamStatus("auth", dead).requests, 1, "an open breaker sends nothing")
    }

    func testHangingUpstreamTimesOutWith504() throws {
        let hole = EdgeBlackHole()
        let gw = try gateway([
            "DT_UPSTREAM_ENGINE": "127.0.0.1:\(hole.port)", "DT_UPSTREAM_TIMEOUT_MS": "300", "DT_BREAKER_FAILURES": "2",
        ])
        let start = Date()
        let r = try EdgeHTTP.call(gw.endpoint, "GET", "/transaction/getStockPrices", headers: [("token", token())])
        XCTAssertEqual(r.status, 504, r.text)
        XCTAssertTrue(r.isErrorEnvelope)
        XCTAssertLessThan(Date().timeIntervalSince(start), 5, "answered at the upstream timeout, not the client's")
        XCTAssertEqual(try gw.upstreamStatus("engine", Endpoint(host: "127.0.0.1", port: hole.port)).failures, 1)
    }

    func testUpstream500sOpenTheBreakerBut503sDoNot() throws {
        let failing = try upstream { _, _ in .error(500, "internal error") }
        let busy = try upstream { _, _ in .error(503, "server busy, try again") }
        let gw = try gateway([
            "DT_UPSTREAM_ENGINE": failing.description, "DT_UPSTREAM_UTIL": busy.description,
            "DT_BREAKER_FAILURES": "3", "DT_BREAKER_OPEN_MS": "600000",
        ])
        let t = token()
        var engine: [Int] = []
        var util: [Int] = []
        for _ in 0..<5 {
            engine.append(
                try EdgeHTTP.call(gw.endpoint, "GET", "/transaction/getStockPrices", headers: [("token", t)]).status)
            util.append(
                try EdgeHTTP.call(gw.endpoint, "POST", "/classic/QUOTE", headers: [("token", t)], body: "{}").status)
        }
        XCTAssertEqual(engine, [500, 500, 500, 503, 503], "three 500s pass through, then the open breaker answers 503")
        XCTAssertEqual(util, [503, 503, 503, 503, 503], "the upstream's own 503s pass through")
        XCTAssertEqual(try gw.upstreamStatus("engine", failing).breaker, "open")
        XCTAssertEqual(try gw.upstreamStatus("util", busy).breaker, "closed")
        XCTAssertEqual(try gw.upstreamStatus("util", busy).requests, 5)
    }
}
