import Glibc
import ServiceCore

/// The legacy TCP protocol: one request per connection. Read one line (`SYM,user`, `SYM user`
/// or `user,SYM`), answer `price,SYM,user,timestamp,cryptokey\n`, close. A fixed set of threads
/// block in accept() on the same socket, so a slow (delayed) answer never holds up the others.
final class LineProtocolServer: @unchecked Sendable {
    private let desk: QuoteDesk
    private let logger: Logger
    private var listenFD: Int32 = -1
    private(set) var port: Int = 0

    init(desk: QuoteDesk, logger: Logger) {
        self.desk = desk
        self.logger = logger
    }

    func start(host: String, port: Int, threads: Int) throws {
        listenFD = try Self.listen(host: host, port: port)
        self.port = Self.boundPort(listenFD) ?? port
        for i in 0..<max(1, threads) {
            Threads.start(name: "quote-tcp-\(i)", stackSize: 256 * 1024) { [self] in acceptLoop() }
        }
    }

    private func acceptLoop() {
        while true {
            let fd = accept(listenFD, nil, nil)
            if fd < 0 {
                if errno == EINTR || errno == ECONNABORTED || errno == EMFILE || errno == ENFILE {
                    if errno == EMFILE || errno == ENFILE { usleep(10_000) }
                    continue
                }
                logger.error("tcp accept failed", metadata: ["errno": .stringConvertible(Int(errno))])
                return
            }
            serve(fd)
            close(fd)
        }
    }

    private func serve(_ fd: Int32) {
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        guard let line = readLine(fd) else { return }
        let reply: Quote
        switch QuoteInput.parseLine(Substring(line)) {
        case .ok(let symbol, let user):
            desk.tcpHits.add(1, ordering: .relaxed)
            desk.simulateLatency()
            reply = desk.quote(symbol: symbol, user: user)
        case .bad(let echo):
            desk.badRequests.add(1, ordering: .relaxed)
            reply = desk.badQuote(echoSymbol: echo)
        }
        let bytes = Array(reply.line.utf8)
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBufferPointer {
                send(fd, $0.baseAddress! + off, $0.count - off, Int32(MSG_NOSIGNAL))
            }
            if n <= 0 {
                if n < 0 && errno == EINTR { continue }
                return
            }
            off += n
        }
    }

    /// Bytes up to the first newline (or EOF / 1 KiB / timeout with something read).
    private func readLine(_ fd: Int32) -> String? {
        var buf: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 512)
        while buf.count < 1024 {
            let n = chunk.withUnsafeMutableBufferPointer { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                if buf.isEmpty {
                    // The rest of a line comes at once; a client that never sends "\n" gets its answer soon.
                    var short = timeval(tv_sec: 0, tv_usec: 250_000)
                    _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &short, socklen_t(MemoryLayout<timeval>.size))
                }
                buf.append(contentsOf: chunk[0..<n])
                if let nl = buf.firstIndex(of: 10) {
                    buf.removeSubrange(nl...)
                    break
                }
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                break // EOF or timeout: answer what arrived
            }
        }
        return buf.isEmpty ? nil : String(decoding: buf, as: UTF8.self)
    }

    private static func listen(host: String, port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HTTPError(500, "socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host, &addr.sin_addr) == 1 else {
            close(fd)
            throw HTTPError(500, "bad DT_HOST for the TCP listener: \(host)")
        }
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, Glibc.listen(fd, 1024) == 0 else {
            let msg = String(cString: strerror(errno))
            close(fd)
            throw HTTPError(500, "tcp listen on \(host):\(port): \(msg)")
        }
        return fd
    }

    private static func boundPort(_ fd: Int32) -> Int? {
        var addr = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let r = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        return r == 0 ? Int(UInt16(bigEndian: addr.sin_port)) : nil
    }
}
