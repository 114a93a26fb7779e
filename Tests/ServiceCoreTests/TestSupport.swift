import CShim
import Foundation
import ServiceCore
import XCTest

/// Environment the test script provides (scripts/test starts the servers).
enum TestEnv {
    static func require(_ key: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        guard let v = ProcessInfo.processInfo.environment[key], !v.isEmpty else {
            XCTFail(
                "\(key) is not set: run the tests through scripts/test, which starts PostgreSQL, Redis and nginx",
                file: file, line: line)
            throw XCTSkip("missing \(key)")
        }
        return v
    }
}

/// Starts an in-process server on a free port for one test.
final class TestServer: Sendable {
    let server: HTTPServer
    var port: Int { server.port }

    init(options: HTTPServerOptions = HTTPServerOptions(), configure: (Router) -> Void) throws {
        var opts = options
        opts.port = 0
        let router = Router()
        configure(router)
        let config = ServiceConfig(name: "test", environment: [:])
        server = HTTPServer(options: opts, router: router, logger: Logger.json(service: "test", level: .error)) {
            WorkerContext(config: config, index: $0)
        }
        try server.start()
    }

    func stop() {
        server.shutdown()
        server.wait()
    }
}

/// A blocking raw TCP client that sends exact bytes and reads exact responses.
final class RawClient {
    let fd: Int32

    init(port: Int, timeoutMillis: Int32 = 5000) throws {
        let fd = cshim_connect_tcp("127.0.0.1", Int32(port), timeoutMillis)
        guard fd >= 0 else { throw HTTPClientError.connect("errno \(-fd)") }
        _ = cshim_set_timeouts(fd, timeoutMillis, timeoutMillis)
        self.fd = fd
    }

    init(unixPath: String, timeoutMillis: Int32 = 5000) throws {
        let fd = cshim_connect_unix(unixPath)
        guard fd >= 0 else { throw HTTPClientError.connect("\(unixPath): errno \(-fd)") }
        _ = cshim_set_timeouts(fd, timeoutMillis, timeoutMillis)
        self.fd = fd
    }

    deinit { close(fd) }

    func send(_ text: String) { send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) {
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBufferPointer {
                Glibc.send(fd, $0.baseAddress! + off, $0.count - off, Int32(MSG_NOSIGNAL))
            }
            if n <= 0 { return }
            off += n
        }
    }

    private var buffer: [UInt8] = []

    /// Reads one response (head + Content-Length body); nil on EOF/timeout before a whole response.
    func readResponse() -> (status: Int, headers: [String: String], body: String)? {
        while true {
            if let parsed = takeResponse() { return parsed }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = chunk.withUnsafeMutableBufferPointer { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return nil }
            buffer.append(contentsOf: chunk[0..<n])
        }
    }

    /// Reads one response with its body as raw bytes.
    func readResponseBytes() -> (status: Int, body: [UInt8])? {
        guard let head = readResponseHeadOnly() else { return nil }
        let len = Int(head.headers["content-length"] ?? "0") ?? 0
        while buffer.count < len {
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = chunk.withUnsafeMutableBufferPointer { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return nil }
            buffer.append(contentsOf: chunk[0..<n])
        }
        let body = Array(buffer[0..<len])
        buffer.removeFirst(len)
        return (head.status, body)
    }

    /// Reads one response head and no body (the answer to a HEAD request).
    func readResponseHeadOnly() -> (status: Int, headers: [String: String])? {
        while true {
            if let end = findEnd() {
                let head = String(decoding: buffer[0..<end], as: UTF8.self)
                buffer.removeFirst(end)
                var lines = head.components(separatedBy: "\r\n").filter { !$0.isEmpty }
                let statusLine = lines.removeFirst().split(separator: " ")
                var headers: [String: String] = [:]
                for l in lines {
                    if let c = l.firstIndex(of: ":") {
                        headers[l[..<c].lowercased()] = l[l.index(after: c)...].trimmingCharacters(in: .whitespaces)
                    }
                }
                return (Int(statusLine[1]) ?? 0, headers)
            }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = chunk.withUnsafeMutableBufferPointer { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return nil }
            buffer.append(contentsOf: chunk[0..<n])
        }
    }

    /// Half-closes: the peer reads EOF after what was sent, and can still answer (`nc -N`).
    func shutdownWrite() { _ = shutdown(fd, Int32(SHUT_WR)) }

    /// True when the server closed the connection (EOF) within the socket timeout.
    func isClosedByPeer() -> Bool {
        var b = [UInt8](repeating: 0, count: 1024)
        while true {
            let n = b.withUnsafeMutableBufferPointer { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { return true }
            if n < 0 { return errno == ECONNRESET }
        }
    }

    private func takeResponse() -> (status: Int, headers: [String: String], body: String)? {
        guard let end = findEnd() else { return nil }
        let head = String(decoding: buffer[0..<end], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        let statusLine = lines.removeFirst().split(separator: " ")
        var headers: [String: String] = [:]
        for l in lines {
            if let c = l.firstIndex(of: ":") {
                headers[l[..<c].lowercased()] = l[l.index(after: c)...].trimmingCharacters(in: .whitespaces)
            }
        }
        let len = Int(headers["content-length"] ?? "0") ?? 0
        guard buffer.count - end >= len else { return nil }
        let body = String(decoding: buffer[end..<(end + len)], as: UTF8.self)
        buffer.removeFirst(end + len)
        return (Int(statusLine[1]) ?? 0, headers, body)
    }

    private func findEnd() -> Int? {
        guard buffer.count >= 4 else { return nil }
        for i in 0...(buffer.count - 4)
        where buffer[i] == 13 && buffer[i + 1] == 10 && buffer[i + 2] == 13 && buffer[i + 3] == 10 {
            return i + 4
        }
        return nil
    }
}

/// Raises the open-file limit so one process can hold both ends of many sockets.
func raiseFileLimit(to wanted: rlim_t) {
    var lim = rlimit()
    getrlimit(Int32(RLIMIT_NOFILE.rawValue), &lim)
    if lim.rlim_cur < wanted {
        lim.rlim_cur = min(wanted, lim.rlim_max)
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &lim)
    }
}

/// A one-shot latch for coordinating threads in tests.
final class Gate: @unchecked Sendable {
    private let sem = DispatchSemaphore(value: 0)
    func open(_ n: Int = 1) { for _ in 0..<n { sem.signal() } }
    func wait(seconds: Double = 10) -> Bool { sem.wait(timeout: .now() + seconds) == .success }
}
