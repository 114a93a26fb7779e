import CShim
import Foundation
import ServiceCore

/// A POST whose response body goes straight to a file: a whole-system DUMPLOG of a big workload is
/// hundreds of MB, past what HTTPClient buffers. Understands Content-Length, chunked and
/// close-delimited bodies. One connection per call (DUMPLOGs are rare).
enum StreamingPost {
    struct Result {
        let status: Int
        let contentType: String
        /// Bytes written to the file (2xx), or the small error body otherwise.
        let bytes: Int
        let errorBody: [UInt8]
    }

    static func post(_ base: BaseURL, path: String, headers: [(String, String)], body: [UInt8],
                     to file: String, timeoutMillis: Int) throws -> Result {
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
            let n = wire.withUnsafeBufferPointer { send(fd, $0.baseAddress! + off, $0.count - off, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw HTTPClientError.io("send: \(String(cString: strerror(errno)))") }
            off += n
        }
        var reader = SocketReader(fd: fd)
        // Status line and headers.
        guard let statusLine = try reader.line(), statusLine.hasPrefix("HTTP/1."),
              let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "") else {
            throw HTTPClientError.malformedResponse("bad status line")
        }
        var length: Int? = nil, chunked = false, contentType = ""
        while let line = try reader.line(), !line.isEmpty {
            guard let c = line.firstIndex(of: ":") else { continue }
            let name = line[..<c].lowercased()
            let value = line[line.index(after: c)...].trimmingCharacters(in: .whitespaces)
            if name == "content-length" { length = Int(value) }
            if name == "transfer-encoding" && value.lowercased().contains("chunked") { chunked = true }
            if name == "content-type" { contentType = value }
        }
        let ok = (200..<300).contains(status)
        var sink = BodySink(path: ok ? file : nil)
        defer { sink.close() }
        if chunked {
            while true {
                guard let sizeLine = try reader.line(),
                      let size = Int(sizeLine.split(separator: ";").first.map(String.init) ?? "", radix: 16) else {
                    throw HTTPClientError.malformedResponse("bad chunk size")
                }
                if size == 0 { break }
                try reader.copy(size, to: &sink)
                _ = try reader.line()
            }
        } else if let length {
            try reader.copy(length, to: &sink)
        } else {
            try reader.copyToEOF(to: &sink)
        }
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
        if pos > 0 && pos == buf.count { buf.removeAll(keepingCapacity: true); pos = 0 }
        var chunk = [UInt8](repeating: 0, count: 256 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBufferPointer { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 { buf.append(contentsOf: chunk[0..<n]); return true }
            if n == 0 { return false }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { throw HTTPClientError.timeout }
            throw HTTPClientError.io("recv: \(String(cString: strerror(errno)))")
        }
    }

    /// One CRLF- (or LF-) terminated line without its terminator; nil at EOF.
    mutating func line() throws -> String? {
        while true {
            if let nl = buf[pos...].firstIndex(of: 10) {
                var end = nl
                if end > pos && buf[end - 1] == 13 { end -= 1 }
                let s = String(decoding: buf[pos..<end], as: UTF8.self)
                pos = nl + 1
                return s
            }
            if buf.count - pos > 64 * 1024 { throw HTTPClientError.malformedResponse("header line too long") }
            guard try fill() else { return nil }
        }
    }

    mutating func copy(_ count: Int, to sink: inout BodySink) throws {
        var left = count
        while left > 0 {
            if pos == buf.count { guard try fill() else { throw HTTPClientError.io("recv: connection closed mid-body") } }
            let take = min(left, buf.count - pos)
            sink.write(buf[pos..<(pos + take)])
            pos += take
            left -= take
        }
    }

    mutating func copyToEOF(to sink: inout BodySink) throws {
        while true {
            if pos < buf.count { sink.write(buf[pos...]); pos = buf.count }
            guard try fill() else { return }
        }
    }
}
