import Foundation
import ServiceCore
import XCTest

/// One message of a text/event-stream: an event (id, name, data) or a comment (`: ping`).
struct SSEMessage {
    var id: String?
    var event: String?
    var data: String?
    var comment: String?

    var json: JSON? { data.flatMap { try? JSON.parse(Array($0.utf8)) } }
    var isEvent: Bool { event != nil || data != nil }
}

/// A plain-socket client of GET /engine/stream through nginx, as EventSource uses it: HTTP/1.1,
/// chunked body decoded as it arrives, messages parsed per the WHATWG rules the page relies on.
final class SSETestClient {
    let status: Int
    let headers: [String: String]
    /// The whole body of a non-200 answer (a JSON error).
    private(set) var errorBody = ""
    private let fd: Int32
    private var raw: [UInt8] = []
    private var decoder = ChunkedDecoder()
    private var text: [UInt8] = []
    private var closed = false

    /// Opens the stream; the head has been read when this returns.
    init(_ endpoint: Endpoint, ticket: String?, lastEventId: String? = nil, query extra: String = "") throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr(endpoint.host == "localhost" ? "127.0.0.1" : endpoint.host)
        addr.sin_port = UInt16(endpoint.port).bigEndian
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard fd >= 0, rc == 0 else {
            if fd >= 0 { Glibc.close(fd) }
            throw PTMissing(description: "connect to \(endpoint): errno \(errno)")
        }
        var query =
            ticket.map { "ticket=" + ($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0) } ?? ""
        if !extra.isEmpty { query += (query.isEmpty ? "" : "&") + extra }
        var request =
            "GET /engine/stream\(query.isEmpty ? "" : "?" + query) HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
        if let lastEventId { request += "Last-Event-ID: \(lastEventId)\r\n" }
        request += "\r\n"
        let bytes = Array(request.utf8)
        guard bytes.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == bytes.count else {
            Glibc.close(fd)
            throw PTMissing(description: "send failed")
        }
        // The head.
        var buffer: [UInt8] = []
        let deadline = Date().addingTimeInterval(10)
        var headEnd: Int?
        while headEnd == nil {
            guard Self.receive(fd, into: &buffer, until: deadline) else {
                Glibc.close(fd)
                throw PTMissing(description: "no answer head: \(String(decoding: buffer, as: UTF8.self))")
            }
            headEnd = buffer.firstRange(of: [13, 10, 13, 10]).map { $0.upperBound }
        }
        let headText = String(decoding: buffer[..<headEnd!], as: UTF8.self)
        buffer.removeFirst(headEnd!)
        let lines = headText.components(separatedBy: "\r\n")
        status = lines.first.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? 0
        var h: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            h[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        headers = h
        self.fd = fd
        raw = buffer
        if status != 200 {
            let length = Int(h["content-length"] ?? "") ?? 0
            while raw.count < length && Self.receive(fd, into: &raw, until: deadline) {}
            errorBody = String(decoding: raw.prefix(length), as: UTF8.self)
            close()
        }
    }

    deinit { close() }

    func close() {
        guard !closed else { return }
        closed = true
        Glibc.close(fd)
    }

    /// Waits for readable bytes until `deadline`; false on timeout or end of stream.
    private static func receive(_ fd: Int32, into buffer: inout [UInt8], until deadline: Date) -> Bool {
        let left = Int32(max(0, deadline.timeIntervalSinceNow * 1000))
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&p, 1, left) == 1 else { return false }
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return false }
        buffer.append(contentsOf: chunk[0..<n])
        return true
    }

    /// The next message, or nil if none arrives within `timeout` seconds.
    func next(timeout: TimeInterval = 10) -> SSEMessage? {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if !raw.isEmpty {
                let input = raw
                raw.removeAll()
                do {
                    _ = try input.withUnsafeBytes { try decoder.feed($0) { text.append(contentsOf: $0) } }
                } catch {
                    XCTFail("malformed chunked body: \(error)")
                    return nil
                }
            }
            if let m = takeMessage() { return m }
            guard !closed, Self.receive(fd, into: &raw, until: deadline) else { return nil }
        }
    }

    /// Messages until one matches `stop` (included), or nil after `timeout` seconds.
    func collect(timeout: TimeInterval = 10, until stop: (SSEMessage) -> Bool) -> [SSEMessage]? {
        let deadline = Date().addingTimeInterval(timeout)
        var seen: [SSEMessage] = []
        while let m = next(timeout: max(0, deadline.timeIntervalSinceNow)) {
            seen.append(m)
            if stop(m) { return seen }
        }
        return nil
    }

    private func takeMessage() -> SSEMessage? {
        while let end = text.firstRange(of: [10, 10]) {
            let block = String(decoding: text[..<end.lowerBound], as: UTF8.self)
            text.removeFirst(end.upperBound)
            var m = SSEMessage()
            for line in block.split(separator: "\n", omittingEmptySubsequences: false) {
                if line.hasPrefix(":") {
                    m.comment = line.dropFirst().trimmingCharacters(in: .whitespaces)
                    continue
                }
                let parts = line.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
                let field = String(parts[0])
                var value = parts.count > 1 ? String(parts[1]) : ""
                if value.hasPrefix(" ") { value.removeFirst() }
                switch field {
                case "id": m.id = value
                case "event": m.event = value
                case "data": m.data = (m.data.map { $0 + "\n" } ?? "") + value
                default: break
                }
            }
            if m.isEvent || m.comment != nil { return m }
        }
        return nil
    }
}
