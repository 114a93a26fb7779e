import CShim
import Glibc
import ServiceCore

/// The proxy's state on one event loop (one per loop, through the loop's `WorkerContext`): idle
/// keep-alive sockets per upstream endpoint, the exchanges in flight (for their deadlines), and
/// the buffer upstream bytes are read into. Touched only by that loop's thread.
final class ProxyLoop {
    let io: LoopIO
    private var idle: [Endpoint: [IdleSocket]] = [:]
    private var active: [ObjectIdentifier: ProxyExchange] = [:]
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)

    /// Idle sockets older than this are closed rather than reused, well inside the services'
    /// idle timeout (120 s), so a reused socket is never one the server is closing.
    static let maxIdleMillis: UInt64 = 20_000
    static let maxIdlePerEndpoint = 256

    init(io: LoopIO) {
        self.io = io
        io.onTick { [unowned self] now in self.tick(now) }
    }

    deinit { buffer.deallocate() }

    static func of(_ responder: Responder) -> ProxyLoop {
        responder.context.local(ProxyLoop.self) { ProxyLoop(io: responder.io) }
    }

    // MARK: exchanges

    func started(_ exchange: ProxyExchange) { active[ObjectIdentifier(exchange)] = exchange }
    func ended(_ exchange: ProxyExchange) { active[ObjectIdentifier(exchange)] = nil }

    private func tick(_ now: UInt64) {
        for exchange in active.values {
            if now >= exchange.deadline { exchange.timedOut() } else { exchange.checkClient() }
        }
        for (endpoint, list) in idle {
            let kept = list.filter { now &- $0.since < Self.maxIdleMillis }
            for s in list where now &- s.since >= Self.maxIdleMillis { s.discard(unlist: false) }
            idle[endpoint] = kept.isEmpty ? nil : kept
        }
    }

    // MARK: idle sockets

    /// A pooled socket to `endpoint`, still watched by this loop (for `.readable`); the caller
    /// reassigns it to itself. A close by the server is normally seen as an event on the idle
    /// socket; `probe` also asks the kernel now (one system call), for requests that could not be
    /// resent if the socket turned out dead.
    func take(_ endpoint: Endpoint, now: UInt64, probe: Bool) -> Int32? {
        while let s = idle[endpoint]?.popLast() {
            if now &- s.since < Self.maxIdleMillis && (!probe || cshim_peer_open(s.fd) == 1) { return s.fd }
            s.discard(unlist: false)
        }
        return nil
    }

    /// Keeps a socket whose exchange completed cleanly; it stays watched so a server-side close is noticed.
    func giveBack(_ fd: Int32, _ endpoint: Endpoint, now: UInt64) {
        guard (idle[endpoint]?.count ?? 0) < Self.maxIdlePerEndpoint, !io.draining else {
            io.unwatch(fd)
            close(fd)
            return
        }
        let s = IdleSocket(fd: fd, endpoint: endpoint, since: now, owner: self)
        io.reassign(fd, to: s)
        io.change(fd, .readable)
        idle[endpoint, default: []].append(s)
    }

    fileprivate func remove(_ s: IdleSocket) {
        idle[s.endpoint]?.removeAll { $0 === s }
    }
}

/// A keep-alive socket between requests. Any event on it (the server closed it, or sent bytes
/// nobody asked for) makes it unusable.
private final class IdleSocket: FDWatcher {
    let fd: Int32
    let endpoint: Endpoint
    let since: UInt64
    unowned let owner: ProxyLoop

    init(fd: Int32, endpoint: Endpoint, since: UInt64, owner: ProxyLoop) {
        self.fd = fd
        self.endpoint = endpoint
        self.since = since
        self.owner = owner
    }

    func ioEvent(_ events: IOEvents) { discard(unlist: true) }

    func discard(unlist: Bool) {
        if unlist { owner.remove(self) }
        owner.io.unwatch(fd)
        close(fd)
    }
}
