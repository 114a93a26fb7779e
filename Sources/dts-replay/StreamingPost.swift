import CShim
import Foundation
import ServiceCore

/// A POST whose response body goes straight to a file: a whole-system DUMPLOG of a big workload is
/// hundreds of MB, past what HTTPClient buffers. Content-Length, chunked and close-delimited
/// bodies, through ServiceCore's `ResponseHead` and `ChunkedDecoder`. One connection per call (DUMPLOGs are rare).
enum StreamingPost {
    struct Result {
        let status: Int
        let contentType: String
        /// Bytes written to the file (2xx), or the small error body otherwise.
        let bytes: Int
        let errorBody: [UInt8]
    }

    static func post(
        _ base: BaseURL, path: String, headers: [(String, String)], body: [UInt8],
        to file: String, timeoutMillis: Int
    ) throws -> Result {
        let fd = cshim_connect_tcp(base.endpoint.host, Int32(base.endpoint.port), Int32(min(timeoutMillis, 10_000)))
        guard fd >= 0 else { throw HTTPClientError.connect("\(base.endpoint): \(String(cString: strerror(-fd)))") }
        defer { close(fd) }
        _ = cshim_set_timeouts(fd, Int32(timeoutMillis), Int32(timeoutMillis))
        var wire = Array("POST \(base.path(path)) HTTP/1.1\r\nHost: \(base.endpoint)\r\nConnection: close\r\n".utf8)
        for (k, v) in headers { wire.append(contentsOf: "\(k): \(v)\r\n".utf8) }
        wire.append(contentsOf: "Content-Length: \(body.count)\r\n\r\n".utf8)
        wire.append(contentsOf: body)
        var off = 0
        while off < wire.count {
            let n = wire.withUnsafeBufferPointer {
                send(fd, $0.baseAddress! + off, $0.count - off, Int32(MSG_NOSIGNAL))
            }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw HTTPClientError.io("send: \(String(cString: strerror(errno)))") }
            off += n
        }
        var reader = SocketReader(fd: fd)
        let head = try reader.head()
        let status = head.status
        let ok = (200..<300).contains(status)
        var sink = BodySink(path: ok ? file : nil)
        defer { sink.close() }
        switch head.framing(forHead: false) {
        case .none: break
        case .length(let n): try reader.copy(n, to: &sink)
        case .chunked: try reader.copyChunked(to: &sink)
        case .untilClose: try reader.copyToEOF(to: &sink)
        }
        let contentType = head.header("content-type") ?? ""
        return Result(status: status, contentType: contentType, bytes: sink.count, errorBody: sink.memory)
    }
}

/// Where a body goes: a file for successes, memory (capped) for error bodies.
struct BodySink {
    private var handle: FileHandle?
    private(set) var memory: [UInt8] = []
    private(set) var count = 0

    init(path: String?) {
        if let path {
            _ = FileManager.default.createFile(atPath: path, contents: nil)
            handle = FileHandle(forWritingAtPath: path)
        }
    }

    mutating func write(_ bytes: ArraySlice<UInt8>) {
        count += bytes.count
        if let handle { handle.write(Data(bytes)) } else if memory.count < 1 << 20 { memory.append(contentsOf: bytes) }
    }

    mutating func close() {
        try? handle?.close()
        handle = nil
    }
}

/// Buffered reads from a blocking socket.
struct SocketReader {
    let fd: Int32
    private var buf: [UInt8] = []
    private var pos = 0

    init(fd: Int32) { self.fd = fd }

    private mutating func fill() throws -> Bool {
        if pos > 0 && pos == buf.count {
            buf.removeAll(keepingCapacity: true)
            pos = 0
        }
        var chunk = [UInt8](repeating: 0, count: 256 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBufferPointer { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                buf.append(contentsOf: chunk[0..<n])
                return true
            }
            if n == 0 { return false }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { throw HTTPClientError.timeout }
            throw HTTPClientError.io("recv: \(String(cString: strerror(errno)))")
        }
    }

    /// The response head (ServiceCore's parser), consumed from the buffer.
    mutating func head() throws -> ResponseHead {
        while true {
            switch buf[pos...].withUnsafeBytes({ ResponseHead.parse($0) }) {
            case .head(let h):
                pos += h.length
                return h
            case .invalid(let why):
                throw HTTPClientError.malformedResponse(why)
            case .incomplete:
                guard try fill() else {
                    throw HTTPClientError.malformedResponse("connection closed in the response head")
                }
            }
        }
    }

    /// A chunked body, decoded into `sink` (ServiceCore's decoder).
    mutating func copyChunked(to sink: inout BodySink) throws {
        var decoder = ChunkedDecoder()
        while true {
            if pos == buf.count {
                guard try fill() else { throw HTTPClientError.io("recv: connection closed mid-body") }
            }
            pos += try buf[pos...].withUnsafeBytes { raw in try decoder.feed(raw) { sink.write(ArraySlice($0)) } }
            if decoder.finished { return }
        }
    }

    mutating func copy(_ count: Int, to sink: inout BodySink) throws {
        var left = count
        while left > 0 {
            if pos == buf.count {
                guard try fill() else { throw HTTPClientError.io("recv: connection closed mid-body") }
            }
            let take = min(left, buf.count - pos)
            sink.write(buf[pos..<(pos + take)])
            pos += take
            left -= take
        }
    }

    mutating func copyToEOF(to sink: inout BodySink) throws {
        while true {
            if pos < buf.count {
                sink.write(buf[pos...])
                pos = buf.count
            }
            guard try fill() else { return }
        }
    }
}
