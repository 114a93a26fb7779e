import CShim
import Glibc
import Synchronization

public struct ClientResponse: Sendable {
    public let status: Int
    public let headers: [(name: String, value: String)]
    public let body: [UInt8]
    /// Set instead of `body` when the caller asked to spool large bodies to disk (`spoolAbove`);
    /// the file is temporary and belongs to the caller.
    public var bodyFile: BodyFile? = nil

    public func header(_ name: String) -> String? {
        for h in headers where h.name == name { return h.value }
        return nil
    }

    public func json() throws -> JSON { try JSON.parse(body) }
}

public enum HTTPClientError: Error, Sendable, CustomStringConvertible {
    case connect(String)
    case timeout
    case io(String)
    case malformedResponse(String)

    public var description: String {
        switch self {
        case .connect(let m): return "connect failed: \(m)"
        case .timeout: return "timed out"
        case .io(let m): return "I/O error: \(m)"
        case .malformedResponse(let m): return "malformed response: \(m)"
        }
    }
}

/// Blocking HTTP/1.1 client for service-to-service calls from worker threads. Keeps idle
/// keep-alive sockets per endpoint; every call has its own deadline.
public final class HTTPClient: Sendable {
    public static let shared = HTTPClient()

    private struct Idle: Sendable {
        let fd: Int32
        let since: UInt64
    }
    /// Idle sockets, sharded by calling thread: a worker mostly takes back the socket it returned,
    /// and hundreds of gateway workers do not queue on one lock.
    private final class IdleShard: Sendable {
        let sockets = Mutex<[Endpoint: [Idle]]>([:])
    }
    private let shards: [IdleShard] = (0..<16).map { _ in IdleShard() }
    private var idle: IdleShard {
        shards[Int(truncatingIfNeeded: (UInt(pthread_self()) &* 0x9E37_79B9_7F4A_7C15) >> 60)]
    }
    /// Idle sockets older than this are closed rather than reused, staying well inside the
    /// server's idle timeout so a reused socket is never one the server is closing.
    private let maxIdleNanos: UInt64 = 20_000_000_000
    private let maxIdlePerEndpoint = 256

    public static let maxResponseBytes = 1 << 30

    /// Adds a `GatewayProof` over each request's method, target and identity headers (nil: none).
    private let signer: GatewayProof?

    public init(signer: GatewayProof? = nil) {
        self.signer = signer
    }

    public func request(
        _ endpoint: Endpoint, method: String, path: String, headers: [(String, String)] = [],
        body: [UInt8] = [], timeoutMillis: Int = 5000,
        spoolAbove: Int? = nil
    ) throws(HTTPClientError) -> ClientResponse {
        let deadline = Clock.monotonicNanos() + UInt64(timeoutMillis) * 1_000_000
        let headers = signer.map { $0.signed(method: method, target: path, headers: headers) } ?? headers
        let wire = RequestWire.encode(method: method, target: path, host: endpoint, headers: headers, body: body)

        let idempotent = method == "GET" || method == "HEAD"
        if let reused = takeIdle(endpoint) {
            do {
                return try exchange(
                    fd: reused, endpoint: endpoint, wire: wire, deadline: deadline, head: method == "HEAD",
                    spoolAbove: spoolAbove)
            } catch let e {
                // A pooled socket the server already closed fails at once. Retry on a fresh socket
                // only when the server cannot have acted on the request.
                guard case .io(let stage) = e, stage.hasPrefix("send") || idempotent else { throw e }
            }
        }
        let remaining = Int((deadline &- Clock.monotonicNanos()) / 1_000_000)
        let fd = cshim_connect_tcp(endpoint.host, Int32(endpoint.port), Int32(max(1, min(remaining, timeoutMillis))))
        guard fd >= 0 else {
            if -fd == ETIMEDOUT { throw .timeout }
            throw .connect("\(endpoint): \(String(cString: strerror(-fd)))")
        }
        return try exchange(
            fd: fd, endpoint: endpoint, wire: wire, deadline: deadline, head: method == "HEAD", spoolAbove: spoolAbove)
    }

    /// Convenience for JSON bodies.
    public func json(
        _ endpoint: Endpoint, method: String, path: String, headers: [(String, String)] = [],
        body: JSON?, timeoutMillis: Int = 5000
    ) throws(HTTPClientError) -> ClientResponse {
        var h = headers
        if body != nil { h.append(("Content-Type", "application/json")) }
        return try request(
            endpoint, method: method, path: path, headers: h, body: body?.serializedBytes() ?? [],
            timeoutMillis: timeoutMillis)
    }

    /// Closes every pooled socket (used by tests and on shutdown).
    public func closeIdle() {
        let all = shards.flatMap { shard in
            shard.sockets.withLock { d -> [Idle] in
                let v = d.values.flatMap { $0 }
                d.removeAll()
                return v
            }
        }
        for s in all { close(s.fd) }
    }

    private func takeIdle(_ endpoint: Endpoint) -> Int32? {
        let now = Clock.monotonicNanos()
        var stale: [Int32] = []
        let fd = idle.sockets.withLock { d -> Int32? in
            while var list = d[endpoint], let last = list.popLast() {
                d[endpoint] = list
                if now &- last.since < maxIdleNanos && HTTPClient.stillOpen(last.fd) { return last.fd }
                stale.append(last.fd)
            }
            return nil
        }
        stale.forEach { close($0) }
        return fd
    }

    /// A pooled socket whose peer has closed (or died) reads as EOF or an error without
    /// blocking; such a socket must not carry a request that cannot be retried.
    private static func stillOpen(_ fd: Int32) -> Bool {
        var b: UInt8 = 0
        let n = recv(fd, &b, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
        return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)
    }

    private func giveBack(_ fd: Int32, _ endpoint: Endpoint) {
        let kept = idle.sockets.withLock { d -> Bool in
            guard (d[endpoint]?.count ?? 0) < maxIdlePerEndpoint / 4 else { return false }
            d[endpoint, default: []].append(Idle(fd: fd, since: Clock.monotonicNanos()))
            return true
        }
        if !kept { close(fd) }
    }

    private func exchange(
        fd: Int32, endpoint: Endpoint, wire: [UInt8], deadline: UInt64, head: Bool,
        spoolAbove: Int?
    ) throws(HTTPClientError) -> ClientResponse {
        do {
            try sendAll(fd, wire, deadline)
            let (response, reusable) = try readResponse(fd, deadline, head: head, spoolAbove: spoolAbove)
            if reusable { giveBack(fd, endpoint) } else { close(fd) }
            return response
        } catch {
            close(fd)
            throw error
        }
    }

    private func setTimeout(_ fd: Int32, _ deadline: UInt64) throws(HTTPClientError) {
        let now = Clock.monotonicNanos()
        guard now < deadline else { throw .timeout }
        let ms = Int32(max(1, (deadline - now) / 1_000_000))
        _ = cshim_set_timeouts(fd, ms, ms)
    }

    private func sendAll(_ fd: Int32, _ bytes: [UInt8], _ deadline: UInt64) throws(HTTPClientError) {
        var off = 0
        while off < bytes.count {
            try setTimeout(fd, deadline)
            let n = bytes.withUnsafeBufferPointer {
                send(fd, $0.baseAddress! + off, $0.count - off, Int32(MSG_NOSIGNAL))
            }
            if n > 0 {
                off += n
                continue
            }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { throw .timeout }
            throw .io("send: \(String(cString: strerror(errno)))")
        }
    }

    /// `head`: the request was HEAD, so the response has no body whatever its Content-Length says.
    private func readResponse(_ fd: Int32, _ deadline: UInt64, head: Bool, spoolAbove: Int?) throws(HTTPClientError)
        -> (ClientResponse, Bool)
    {
        var buf: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        var parsed: ResponseHead? = nil
        // A chunked body is decoded as it arrives: `fed` bytes of `buf` went through `chunks`.
        var chunks = ChunkedDecoder()
        var decoded: [UInt8] = []
        var fed = 0
        while true {
            if parsed == nil {
                switch buf.withUnsafeBytes({ ResponseHead.parse($0) }) {
                case .incomplete: break
                case .invalid(let why): throw .malformedResponse(why)
                case .head(let h):
                    fed = h.length
                    if let n = h.contentLength {
                        guard n <= HTTPClient.maxResponseBytes else { throw .malformedResponse("response too large") }
                        buf.reserveCapacity(h.length + n)
                    }
                    parsed = h
                }
            }
            if let h = parsed {
                let end = h.length
                let status = h.status
                let headers = h.headers
                let keepAlive = !h.closes
                if let limit = spoolAbove, let len = h.contentLength, len > limit, !head {
                    let file = try spool(fd, initial: buf[end...], length: len, deadline: deadline)
                    return (ClientResponse(status: status, headers: headers, body: [], bodyFile: file), keepAlive)
                }
                switch h.framing(forHead: head) {
                case .none:
                    return (ClientResponse(status: status, headers: headers, body: []), keepAlive)
                case .length(let len) where buf.count - end >= len:
                    return (
                        ClientResponse(status: status, headers: headers, body: Array(buf[end..<(end + len)])), keepAlive
                    )
                case .chunked:
                    do {
                        fed += try buf.withUnsafeBytes {
                            try chunks.feed(UnsafeRawBufferPointer(rebasing: $0[fed...])) {
                                decoded.append(contentsOf: $0)
                            }
                        }
                    } catch let e as ChunkedDecoder.Malformed {
                        throw .malformedResponse(e.reason)
                    } catch {
                        throw .malformedResponse("chunked body")
                    }
                    if chunks.finished {
                        return (ClientResponse(status: status, headers: headers, body: decoded), keepAlive)
                    }
                    if decoded.count > HTTPClient.maxResponseBytes { throw .malformedResponse("response too large") }
                default:
                    break
                }
            }
            try setTimeout(fd, deadline)
            let n = chunk.withUnsafeMutableBufferPointer { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                buf.append(contentsOf: chunk[0..<n])
                // Large enough for a whole-system DUMPLOG of the final workload (~500 MB) relayed
                // by the gateway; bodies are held in memory (no streaming proxy yet).
                if buf.count > HTTPClient.maxResponseBytes { throw .malformedResponse("response too large") }
            } else if n == 0 {
                if let h = parsed, h.framing(forHead: head) == .untilClose {
                    return (ClientResponse(status: h.status, headers: h.headers, body: Array(buf[h.length...])), false)
                }
                throw .io("recv: connection closed")
            } else if errno == EINTR {
                continue
            } else if errno == EAGAIN || errno == EWOULDBLOCK {
                throw .timeout
            } else {
                throw .io("recv: \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Writes a `length`-byte body (its first bytes already read) to a temporary file.
    private func spool(_ fd: Int32, initial: ArraySlice<UInt8>, length: Int, deadline: UInt64) throws(HTTPClientError)
        -> BodyFile
    {
        var template = Array("/tmp/dt-body-XXXXXX".utf8CString)
        let out = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard out >= 0 else { throw .io("spool: \(String(cString: strerror(errno)))") }
        let path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        defer { close(out) }
        func writeAll(_ bytes: UnsafeRawBufferPointer) -> Bool {
            var off = 0
            while off < bytes.count {
                let n = write(out, bytes.baseAddress! + off, bytes.count - off)
                if n <= 0 { return false }
                off += n
            }
            return true
        }
        var written = min(initial.count, length)
        guard initial.prefix(length).withUnsafeBytes({ writeAll($0) }) else {
            unlink(path)
            throw .io("spool: write failed")
        }
        var chunk = [UInt8](repeating: 0, count: 256 * 1024)
        while written < length {
            do { try setTimeout(fd, deadline) } catch {
                unlink(path)
                throw error
            }
            let n = chunk.withUnsafeMutableBufferPointer {
                recv(fd, $0.baseAddress, min($0.count, length - written), 0)
            }
            if n > 0 {
                guard chunk[0..<n].withUnsafeBytes({ writeAll($0) }) else {
                    unlink(path)
                    throw .io("spool: write failed")
                }
                written += n
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                unlink(path)
                if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { throw .timeout }
                throw .io("recv: connection closed")
            }
        }
        return BodyFile(path: path, length: length, deleteAfterSend: true)
    }
}
