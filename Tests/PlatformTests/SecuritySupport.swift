import Foundation
import ServiceCore
import XCTest

// Helpers for the auth and gateway tests (Auth*.swift, Security*.swift). Names carry an `Edge`
// prefix so they cannot clash with other helpers in this test module.

struct EdgeEnvMissing: Error, CustomStringConvertible {
    let description: String
}

/// The private stack scripts/test starts (see the contract's "Test environment").
enum EdgeEnv {
    static func require(_ key: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        guard let v = ProcessInfo.processInfo.environment[key], !v.isEmpty else {
            let message = "\(key) is not set: run the tests through scripts/test, which starts the stack"
            XCTFail(message, file: file, line: line)
            throw EdgeEnvMissing(description: message)
        }
        return v
    }

    /// nginx, the public front door.
    static func nginx() throws -> Endpoint {
        let url = try require("DT_TEST_NGINX")
        let hostPort =
            url.replacingOccurrences(of: "http://", with: "").split(separator: "/").first.map(String.init) ?? ""
        guard let ep = Endpoint(hostPort) else {
            throw EdgeEnvMissing(description: "DT_TEST_NGINX is not http://host:port: \(url)")
        }
        return ep
    }

    static func portBase() throws -> Int {
        guard let base = Int(try require("DT_TEST_PORT_BASE")) else {
            throw EdgeEnvMissing(description: "DT_TEST_PORT_BASE is not a number")
        }
        return base
    }

    /// A service instance of the stack by its default port (auth 8100, gateway 8080 ...).
    static func service(defaultPort: Int) throws -> Endpoint {
        Endpoint(host: "127.0.0.1", port: try portBase() + defaultPort)
    }

    /// The stack's JWT secret (scripts/up keeps it in STATE_DIR/jwt_secret).
    static func jwtSecret() throws -> String {
        let path = try require("DT_TEST_STATE") + "/jwt_secret"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8), !text.isEmpty else {
            XCTFail("no JWT secret at \(path)")
            throw EdgeEnvMissing(description: "no JWT secret at \(path)")
        }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Admin password of the stack: DT_TEST_ADMIN_PASSWORD, else STATE_DIR/admin-password.
    static func adminPassword() -> String? {
        let env = ProcessInfo.processInfo.environment
        if let p = env["DT_TEST_ADMIN_PASSWORD"], !p.isEmpty { return p }
        if let state = env["DT_TEST_STATE"],
            let p = try? String(contentsOfFile: state + "/admin-password", encoding: .utf8).trimmingCharacters(
                in: .whitespacesAndNewlines),
            !p.isEmpty
        {
            return p
        }
        return nil
    }

    /// Where the debug executables are (scripts/test exports DT_TEST_BIN_DIR).
    static func binary(_ name: String) throws -> String {
        let env = ProcessInfo.processInfo.environment
        let dir: String
        if let d = env["DT_TEST_BIN_DIR"], !d.isEmpty {
            dir = d
        } else {
            dir = try require("DT_TEST_REPO") + "/.build/debug"
        }
        let path = dir + "/" + name
        guard FileManager.default.isExecutableFile(atPath: path) else {
            XCTFail("no \(name) executable at \(path)")
            throw EdgeEnvMissing(description: "no \(name) executable at \(path)")
        }
        return path
    }

    static func uniqueName(_ prefix: String) -> String {
        prefix + "_" + Crypto.randomBytes(5).map { String(format: "%02x", $0) }.joined()
    }
}

/// A response with its body parsed when it is JSON.
struct EdgeResponse {
    let status: Int
    let headers: [(name: String, value: String)]
    let body: [UInt8]

    var json: JSON? { try? JSON.parse(body) }
    var text: String { String(decoding: body, as: UTF8.self) }
    func header(_ name: String) -> String? { headers.first { $0.name == name.lowercased() }?.value }

    /// `{"success":false,"data":{"error":"..."}}` with a non-empty message.
    var isErrorEnvelope: Bool {
        guard let j = json, j["success"] == .bool(false), let msg = j["data"]?["error"]?.stringValue else {
            return false
        }
        return !msg.isEmpty
    }
}

enum EdgeHTTP {
    /// `signed`: with the gateway's proof, as a request straight to a service port needs.
    static func call(
        _ ep: Endpoint, _ method: String, _ path: String, headers: [(String, String)] = [],
        body: String? = nil, signed: Bool = false, timeoutMillis: Int = 15_000
    ) throws -> EdgeResponse {
        var h = headers
        if body != nil { h.append(("Content-Type", "application/json")) }
        let client = signed ? PTEnv.signedClient : HTTPClient.shared
        let r = try client.request(
            ep, method: method, path: path, headers: h, body: Array((body ?? "").utf8),
            timeoutMillis: timeoutMillis)
        return EdgeResponse(status: r.status, headers: r.headers, body: r.body)
    }

    static func json(_ value: JSON) -> String { value.serialized() }

    static func register(_ ep: Endpoint, _ user: String, _ password: String, name: String = "Test User") throws
        -> EdgeResponse
    {
        try call(
            ep, "POST", "/authentication/register",
            body: json(
                .object([("user_name", .string(user)), ("password", .string(password)), ("name", .string(name))])))
    }

    static func login(_ ep: Endpoint, _ user: String, _ password: String) throws -> EdgeResponse {
        try call(
            ep, "POST", "/authentication/login",
            body: json(.object([("user_name", .string(user)), ("password", .string(password))])))
    }

    /// Registers a fresh user through `ep` and returns (user name, token).
    static func newUser(_ ep: Endpoint, prefix: String = "sec", file: StaticString = #filePath, line: UInt = #line)
        throws -> (String, String)
    {
        let user = EdgeEnv.uniqueName(prefix)
        let password = "pw-" + EdgeEnv.uniqueName("x") + "@.-_$()"
        let reg = try register(ep, user, password)
        XCTAssertEqual(reg.status, 200, "register: \(reg.text)", file: file, line: line)
        let log = try login(ep, user, password)
        guard log.status == 200, let token = log.json?["data"]?["token"]?.stringValue else {
            XCTFail("login failed: \(log.status) \(log.text)", file: file, line: line)
            throw EdgeEnvMissing(description: "login failed")
        }
        return (user, token)
    }

    static func whoami(_ ep: Endpoint, token: String?, extra: [(String, String)] = []) throws -> EdgeResponse {
        var h = extra
        if let t = token { h.append(("token", t)) }
        return try call(ep, "GET", "/authentication/whoami", headers: h)
    }
}

/// A service executable started by a test (gateway or auth), stopped when the test ends.
/// It listens on DT_PORT (0 = any free port; the bound port is read from its "listening" log line).
final class EdgeProcess {
    let name: String
    let process = Process()
    let logPath: String
    private(set) var port = 0
    var endpoint: Endpoint { Endpoint(host: "127.0.0.1", port: port) }

    init(_ name: String, env: [String: String], port: Int = 0) throws {
        self.name = name
        logPath = NSTemporaryDirectory() + "/\(EdgeEnv.uniqueName(name)).log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: try EdgeEnv.binary(name))
        var environment = ProcessInfo.processInfo.environment.filter {
            !$0.key.hasPrefix("DT_") || $0.key.hasPrefix("DT_TEST_")
        }
        environment["DT_HOST"] = "127.0.0.1"
        environment["DT_PORT"] = String(port)
        environment["DT_LOOPS"] = "1"
        environment["DT_LOG_LEVEL"] = "info"
        // The stack's key, so a test gateway's requests pass the stack's services (tests may override it).
        environment["DT_INTERNAL_KEY"] = environment["DT_TEST_INTERNAL_KEY"]
        for (k, v) in env { environment[k] = v }
        process.environment = environment
        let log = FileHandle(forWritingAtPath: logPath)
        process.standardError = log
        process.standardOutput = log
        try process.run()
        try? log?.close() // the child holds its own copy
        self.port = try waitForListening(requested: port)
    }

    private func waitForListening(requested: Int) throws -> Int {
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            for line in log.split(separator: "\n") where line.contains("\"msg\":\"listening\"") {
                if let j = try? JSON.parse(String(line)), let p = j["port"]?.int64Value { return Int(p) }
            }
            guard process.isRunning else { break }
            usleep(20_000)
        }
        let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        stop()
        throw EdgeEnvMissing(description: "\(name) did not start listening; log:\n\(log.suffix(2000))")
    }

    /// SIGKILL and reap: the port is closed when this returns.
    func kill9() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: logPath)
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
}

/// Gateway status (GET /gateway/status) for one upstream instance.
struct EdgeInstanceStatus {
    let endpoint: String
    let breaker: String
    let timesOpened: Int
    let requests: Int
    let failures: Int
}

extension EdgeProcess {
    func upstreamStatus(_ group: String) throws -> [EdgeInstanceStatus] {
        let r = try EdgeHTTP.call(endpoint, "GET", "/gateway/status", signed: true)
        guard r.status == 200, let list = r.json?["upstreams"]?[group]?.arrayValue else {
            throw EdgeEnvMissing(description: "bad /gateway/status: \(r.status) \(r.text)")
        }
        return list.map {
            EdgeInstanceStatus(
                endpoint: $0["endpoint"]?.stringValue ?? "", breaker: $0["breaker"]?.stringValue ?? "",
                timesOpened: Int($0["times_opened"]?.int64Value ?? -1), requests: Int($0["requests"]?.int64Value ?? -1),
                failures: Int($0["failures"]?.int64Value ?? -1))
        }
    }

    func upstreamStatus(_ group: String, _ endpoint: Endpoint) throws -> EdgeInstanceStatus {
        guard let s = try upstreamStatus(group).first(where: { $0.endpoint == endpoint.description }) else {
            throw EdgeEnvMissing(description: "\(endpoint) not in the gateway's \(group) list")
        }
        return s
    }
}

/// A TCP port nobody listens on (bound once to learn a free number, then closed).
func edgeFreePort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = 0
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
    _ = withUnsafeMutablePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
    }
    return Int(UInt16(bigEndian: addr.sin_port))
}

/// A socket that listens but never accepts: connections complete (kernel backlog) and requests
/// are never answered — an upstream that hangs.
final class EdgeBlackHole {
    let fd: Int32
    let port: Int

    init() {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = listen(fd, 64)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        self.fd = fd
        port = Int(UInt16(bigEndian: addr.sin_port))
    }

    deinit { close(fd) }
}

/// Hand-made JWTs for the negative cases (ServiceCore's JWT only makes valid HS256 tokens).
enum EdgeJWT {
    static func b64(_ s: String) -> String { Base64.encodeURL(Array(s.utf8)) }

    static func payload(sub: String, name: String, role: String = "user", exp: Int64) -> String {
        JSON.object([
            ("sub", .string(sub)), ("name", .string(name)), ("role", .string(role)),
            ("iat", .int(exp - 7200)), ("exp", .int(exp)),
        ]).serialized()
    }

    static func signed(header: String, payload: String, secret: String) -> String {
        let input = b64(header) + "." + b64(payload)
        return input + "." + Base64.encodeURL(Crypto.hmacSHA256(key: Array(secret.utf8), data: Array(input.utf8)))
    }

    static var nowSeconds: Int64 { Clock.wallMillis() / 1000 }
}
