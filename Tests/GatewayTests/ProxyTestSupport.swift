import CShim
import Foundation
import ServiceCore
import Synchronization
import XCTest

@testable import GatewayCore

enum ProxyTestKeys {
    static let internalKey = "proxy-test-internal-key"
    static let jwtSecret = "proxy-test-jwt-secret"

    static func token(sub: String = "7", name: String = "tester") -> String {
        let now = Clock.wallMillis() / 1000
        return JWT(secret: jwtSecret).sign(
            JWTClaims(subject: sub, name: name, role: "user", issuedAt: now, expiresAt: now + 600))
    }
}

/// A gateway in this process (one event loop), with upstreams and limits from `env`.
final class TestGateway: @unchecked Sendable { // immutable after init
    let service: Service
    let port: Int
    var endpoint: Endpoint { Endpoint(host: "127.0.0.1", port: port) }

    init(_ env: [String: String]) throws {
        var all = [
            "DT_PORT": "0", "DT_LOOPS": "1", "DT_INTERNAL_KEY": ProxyTestKeys.internalKey,
            "DT_JWT_SECRET": ProxyTestKeys.jwtSecret,
            "DT_LOG_LEVEL": "error", "DT_RATE_USER_RPS": "0",
        ]
        for (k, v) in env { all[k] = v }
        service = Service(name: "gateway-test", defaultPort: 0, callers: .publicExcept(["/gateway/"]), environment: all)
        guard let signer = GatewayProof(key: ProxyTestKeys.internalKey) else { throw HTTPError(500, "no key") }
        Gateway.install(on: service, settings: GatewaySettings(service.config), signer: signer)
        port = try service.start()
    }

    /// Gateway state from /gateway/status.
    func status() throws -> JSON {
        let client = HTTPClient(signer: GatewayProof(key: ProxyTestKeys.internalKey))
        return try client.request(endpoint, method: "GET", path: "/gateway/status", timeoutMillis: 5000).json()
    }

    func bulkheadInFlight(_ group: String) throws -> Int {
        Int(try status()["bulkheads"]?[group]?["in_flight"]?.int64Value ?? -1)
    }

    /// Polls until `condition` holds (state another thread is driving), failing after `seconds`.
    func await(_ what: String, seconds: Double = 10, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while try !condition() {
            guard Date() < deadline else { throw HTTPError(500, "timed out waiting for \(what)") }
            usleep(10_000)
        }
    }
}

/// An in-process upstream built on the core server: `handler` answers every request on a worker.
final class TestUpstream {
    let server: HTTPServer
    var endpoint: Endpoint { Endpoint(host: "127.0.0.1", port: server.port) }

    init(_ handler: @escaping Handler) throws {
        let router = Router()
        router.setFallback(mode: .blocking, handler)
        var options = HTTPServerOptions()
        options.port = 0
        options.loops = 1
        options.workers = 8
        let config = ServiceConfig(name: "upstream", environment: [:])
        server = HTTPServer(options: options, router: router, logger: Logger.json(service: "upstream", level: .error)) {
            WorkerContext(config: config, index: $0)
        }
        try server.start()
    }

    deinit {
        server.shutdown()
        server.wait()
    }
}

/// A hand-written upstream on plain blocking sockets, for answers the core server does not
/// produce (no length, cut short, endless): `serve` gets each accepted socket after its request head.
final class RawUpstream: @unchecked Sendable {
    let port: Int
    private let listenFd: Int32
    private let counter = Counter()
    private let accepted = Counter()
    /// Connections accepted.
    var connections: Int { accepted.value.load(ordering: .relaxed) }
    /// Requests whose head arrived.
    var requests: Int { counter.value.load(ordering: .relaxed) }

    init(_ serve: @escaping @Sendable (Int32) -> Void) throws {
        let fd = cshim_listen_tcp("127.0.0.1", 0, 64, 0)
        guard fd >= 0 else { throw HTTPError(500, "listen failed") }
        listenFd = fd
        port = Int(cshim_local_port(fd))
        _ = cshim_set_nonblocking(fd, 0)
        let thread = Thread { [counter, accepted] in
            while true {
                let conn = cshim_accept(fd, nil, 0)
                if conn < 0 {
                    if -conn == EINTR || -conn == EAGAIN { continue }
                    return
                }
                _ = cshim_set_nonblocking(conn, 0)
                accepted.value.add(1, ordering: .relaxed)
                Thread {
                    guard RawSocket.readHead(conn) != nil else {
                        close(conn)
                        return
                    }
                    counter.value.add(1, ordering: .relaxed)
                    serve(conn)
                    close(conn)
                }.start()
            }
        }
        thread.start()
    }

    var endpoint: Endpoint { Endpoint(host: "127.0.0.1", port: port) }

    deinit {
        shutdown(listenFd, Int32(SHUT_RDWR))
        close(listenFd)
    }
}

final class Counter: Sendable {
    let value = Atomic<Int>(0)
}

/// Blocking socket helpers for the raw client and upstream.
enum RawSocket {
    static func connect(_ ep: Endpoint) throws -> Int32 {
        let fd = cshim_connect_tcp(ep.host, Int32(ep.port), 2000)
        guard fd >= 0 else { throw HTTPError(500, "connect failed: \(-fd)") }
        _ = cshim_set_timeouts(fd, 20_000, 20_000)
        return fd
    }

    @discardableResult
    static func send(_ fd: Int32, _ text: String) -> Bool { send(fd, Array(text.utf8)) }

    @discardableResult
    static func send(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + off, $0.count - off, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            off += n
        }
        return true
    }

    /// Reads up to and including the blank line that ends a head (byte by byte: nothing after it is consumed).
    static func readHead(_ fd: Int32) -> String? {
        var head: [UInt8] = []
        var b: UInt8 = 0
        while !(head.count >= 4 && head.suffix(4) == [13, 10, 13, 10]) {
            guard recv(fd, &b, 1, 0) == 1 else { return nil }
            head.append(b)
        }
        return String(decoding: head, as: UTF8.self)
    }

    /// Reads until the peer closes or `limit` bytes arrived.
    static func readAll(_ fd: Int32, limit: Int = 1 << 20) -> [UInt8] {
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while out.count < limit {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, min($0.count, limit - out.count), 0) }
            if n <= 0 { break }
            out.append(contentsOf: chunk[0..<n])
        }
        return out
    }

    /// Reads until the bytes end with `suffix` (or the peer closes).
    static func readUntil(_ fd: Int32, suffix: String) -> [UInt8] {
        let end = Array(suffix.utf8)
        var out: [UInt8] = []
        var b: UInt8 = 0
        while !out.reversed().starts(with: end.reversed()) {
            guard recv(fd, &b, 1, 0) == 1 else { break }
            out.append(b)
        }
        return out
    }

    static func get(_ path: String, token: String = ProxyTestKeys.token()) -> String {
        "GET \(path) HTTP/1.1\r\nHost: gw\r\ntoken: \(token)\r\n\r\n"
    }
}

/// Runs `body` on a thread of its own inside `group` (a global queue may start fewer blocking tasks at once than asked).
func spawn(_ group: DispatchGroup, _ body: @escaping @Sendable () -> Void) {
    group.enter()
    Thread {
        body()
        group.leave()
    }.start()
}
