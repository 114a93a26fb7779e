import CShim
import Foundation
import ServiceCore

/// Wall-clock microseconds (the events' `commit_ms` is wall-clock milliseconds).
func wallMicros() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
}

/// One SSE connection: the request to send, then the answer's head, then chunked event text.
final class SSEConnection {
    let fd: Int32
    let index: Int
    var out: [UInt8]
    var outPos = 0
    var headDone = false
    var status = 0
    var raw: [UInt8] = []
    var decoder = ChunkedDecoder()
    var text: [UInt8] = []
    var open = true
    var opened = false // the `: stream open` comment arrived
    var trades = 0
    var resets = 0

    init(fd: Int32, index: Int, request: [UInt8]) {
        self.fd = fd
        self.index = index
        out = request
    }
}

/// Many SSE clients on one epoll loop (its own thread): records, for every `trade` event of the
/// benchmark's stock, the microseconds from its `commit_ms` to the moment its bytes were read.
final class SSEClients: @unchecked Sendable {
    let epfd = cshim_epoll_create()
    var conns: [SSEConnection] = []
    /// Latencies in µs, appended by the loop thread; read after `stop()` returned.
    private(set) var latencies: [Int64] = []
    private let stockMarker: [UInt8]
    private let lock = NSLock()
    private var stopping = false
    private var stopped = DispatchSemaphore(value: 0)

    init(stockId: String) {
        stockMarker = Array("\"stock_id\":\"\(stockId)\"".utf8)
        latencies.reserveCapacity(1 << 20)
    }

    /// Starts a non-blocking connect and queues the request; false if the socket could not be made.
    func add(host: String, port: Int, path: String) -> Bool {
        let fd = cshim_connect_start(host, Int32(port))
        guard fd >= 0 else { return false }
        let request = "GET \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nAccept: text/event-stream\r\n\r\n"
        let c = SSEConnection(fd: fd, index: conns.count, request: Array(request.utf8))
        conns.append(c)
        _ = cshim_epoll_add(epfd, fd, CSHIM_EPOLLOUT | CSHIM_EPOLLIN, UInt64(c.index))
        return true
    }

    var openedCount: Int { lock.withLock { conns.filter(\.opened).count } }
    var tradeReceipts: Int { lock.withLock { conns.reduce(0) { $0 + $1.trades } } }
    var failed: Int { lock.withLock { conns.filter { !$0.open }.count } }
    var resets: Int { lock.withLock { conns.reduce(0) { $0 + $1.resets } } }

    func run() {
        var datas = [UInt64](repeating: 0, count: 1024)
        var masks = [UInt32](repeating: 0, count: 1024)
        var buf = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            if lock.withLock({ stopping }) { break }
            let n = cshim_epoll_wait(epfd, &datas, &masks, 1024, 50)
            guard n > 0 else { continue }
            lock.lock()
            for i in 0..<Int(n) {
                let c = conns[Int(datas[i])]
                guard c.open else { continue }
                if masks[i] & CSHIM_EPOLLOUT != 0 && c.outPos < c.out.count { send(c) }
                if masks[i] & (CSHIM_EPOLLIN | CSHIM_EPOLLHUP | CSHIM_EPOLLERR) != 0 { receive(c, &buf) }
            }
            lock.unlock()
        }
        for c in conns where c.open { close(c.fd) }
        stopped.signal()
    }

    func stop() {
        lock.withLock { stopping = true }
        stopped.wait()
    }

    private func fail(_ c: SSEConnection) {
        c.open = false
        _ = cshim_epoll_del(epfd, c.fd)
        close(c.fd)
    }

    private func send(_ c: SSEConnection) {
        let n = c.out[c.outPos...].withUnsafeBytes { Glibc.send(c.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        if n > 0 { c.outPos += n } else if errno != EAGAIN && errno != EINPROGRESS { return fail(c) }
        if c.outPos == c.out.count { _ = cshim_epoll_mod(epfd, c.fd, CSHIM_EPOLLIN, UInt64(c.index)) }
    }

    private func receive(_ c: SSEConnection, _ buf: inout [UInt8]) {
        while true {
            let n = buf.withUnsafeMutableBytes { recv(c.fd, $0.baseAddress, $0.count, 0) }
            let now = wallMicros() // when these bytes were read
            if n == 0 { return fail(c) }
            if n < 0 {
                if errno != EAGAIN { fail(c) }
                return
            }
            buf.withUnsafeBytes { digest(c, UnsafeRawBufferPointer(rebasing: $0[0..<n]), now) }
            if !c.open || n < buf.count { return }
        }
    }

    private static let headEnd: [UInt8] = [13, 10, 13, 10]
    private static let openComment = Array(": stream open".utf8)
    private static let tradeName = Array("event: trade\n".utf8)
    private static let resetName = Array("event: reset\n".utf8)
    private static let commitKey = Array("\"commit_ms\":".utf8)

    private func digest(_ c: SSEConnection, _ bytes: UnsafeRawBufferPointer, _ now: Int64) {
        if !c.headDone {
            c.raw.append(contentsOf: bytes)
            guard let end = Self.find(Self.headEnd, in: c.raw[...]) else { return }
            let head = String(decoding: c.raw[..<end], as: UTF8.self)
            c.status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
            c.headDone = true
            guard c.status == 200 else { return fail(c) }
            let rest = Array(c.raw[(end + 4)...])
            c.raw = []
            return rest.withUnsafeBytes { digest(c, $0, now) }
        }
        do {
            _ = try c.decoder.feed(bytes) { c.text.append(contentsOf: $0) }
        } catch {
            return fail(c)
        }
        // Whole messages end with a blank line; the event format is the engine's own (one data line).
        var start = 0
        while let end = Self.find([10, 10], in: c.text[start...]) {
            let block = c.text[start..<end]
            start = end + 2
            if Self.find(Self.tradeName, in: block) != nil {
                if Self.find(stockMarker, in: block) != nil, let commit = Self.number(after: Self.commitKey, in: block)
                {
                    c.trades += 1
                    latencies.append(now - commit * 1000)
                }
            } else if Self.find(Self.resetName, in: block) != nil {
                c.resets += 1
            } else if Self.find(Self.openComment, in: block) != nil {
                c.opened = true
            }
        }
        if start == c.text.count {
            c.text.removeAll(keepingCapacity: true)
        } else if start > 0 {
            c.text.removeFirst(start)
        }
    }

    /// Index of the first occurrence of `needle` in `hay` (plain scan: blocks are short).
    static func find(_ needle: [UInt8], in hay: ArraySlice<UInt8>) -> Int? {
        guard let first = needle.first, hay.count >= needle.count else { return nil }
        var i = hay.startIndex
        let last = hay.endIndex - needle.count
        while i <= last {
            if hay[i] == first {
                var j = 1
                while j < needle.count && hay[i + j] == needle[j] { j += 1 }
                if j == needle.count { return i }
            }
            i += 1
        }
        return nil
    }

    static func number(after key: [UInt8], in block: ArraySlice<UInt8>) -> Int64? {
        guard let at = find(key, in: block) else { return nil }
        var v: Int64 = 0
        var i = at + key.count
        var any = false
        while i < block.endIndex, block[i] >= 48, block[i] <= 57 {
            v = v * 10 + Int64(block[i] - 48)
            i += 1
            any = true
        }
        return any ? v : nil
    }
}
