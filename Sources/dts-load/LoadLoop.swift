import CShim
import Foundation
import LoadReport
import ServiceCore
import Synchronization

/// Counters the progress printer reads while the loops run.
final class LoadProgress: Sendable {
    let samples = Atomic<Int>(0)
    let errors = Atomic<Int>(0)
    let usersDone = Atomic<Int>(0)
    let usersStarted = Atomic<Int>(0)
}

/// One virtual user: a JMeter thread with its own keep-alive connection, driven by events.
final class VirtualUser {
    enum Phase { case waiting, pausing, inFlight, done }
    let index: Int32
    let state: UserState
    let startAtNanos: UInt64
    var phase = Phase.waiting
    var step = 0
    var generation: UInt32 = 0
    var fd: Int32 = -1
    var connecting = false
    var requestsOnConnection = 0
    var retried = false
    var out: [UInt8] = []
    var outPos = 0
    var inbuf: [UInt8] = []
    var sampleStart: UInt64 = 0
    var interest: UInt32 = 0

    init(index: Int32, state: UserState, startAtNanos: UInt64) {
        self.index = index
        self.state = state
        self.startAtNanos = startAtNanos
    }
}

/// Min-heap of (deadline, user, generation); entries whose generation is stale are ignored.
struct TimerHeap {
    private var items: [(deadline: UInt64, user: Int32, gen: UInt32)] = []
    var isEmpty: Bool { items.isEmpty }
    var next: UInt64? { items.first?.deadline }

    mutating func push(_ deadline: UInt64, _ user: Int32, _ gen: UInt32) {
        items.append((deadline, user, gen))
        var i = items.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            if items[p].deadline <= items[i].deadline { break }
            items.swapAt(p, i)
            i = p
        }
    }

    mutating func pop() -> (deadline: UInt64, user: Int32, gen: UInt32)? {
        guard !items.isEmpty else { return nil }
        let top = items[0]
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1
                let r = l + 1
                var m = i
                if l < items.count && items[l].deadline < items[m].deadline { m = l }
                if r < items.count && items[r].deadline < items[m].deadline { m = r }
                if m == i { break }
                items.swapAt(m, i)
                i = m
            }
        }
        return top
    }
}

/// An epoll loop running a set of virtual users through `steps` on one thread.
/// Owned by one thread while it runs; the main thread reads `stats` only after joining it.
final class LoadLoop: @unchecked Sendable {
    let steps: [Step]
    let host: String
    let port: Int
    let address: sockaddr_in
    /// Local addresses to bind before connecting, by user index in turn (empty: any).
    let sources: [in_addr]
    let pauseScale: Double
    let timeoutNanos: UInt64
    let progress: LoadProgress
    var users: [VirtualUser] = []
    var stats: Recorder
    private var timers = TimerHeap()
    private let epfd: Int32
    private var active = 0
    private var readBuffer = [UInt8](repeating: 0, count: 65536)

    init(
        steps: [Step], host: String, port: Int, address: sockaddr_in, sources: [in_addr] = [], pauseScale: Double,
        timeoutMillis: Int,
        progress: LoadProgress, originNanos: UInt64
    ) {
        self.steps = steps
        self.host = host
        self.port = port
        self.address = address
        self.sources = sources
        self.pauseScale = pauseScale
        self.timeoutNanos = UInt64(timeoutMillis) * 1_000_000
        self.progress = progress
        self.stats = Recorder(originNanos: originNanos, labels: steps.map(\.label))
        self.epfd = cshim_epoll_create()
    }

    func add(_ user: VirtualUser) {
        users.append(user)
    }

    func run() {
        active = users.count
        for (i, u) in users.enumerated() {
            // The plan's first timer (500 ms) runs after the thread starts.
            u.generation &+= 1
            timers.push(u.startAtNanos + pause(0), Int32(i), u.generation)
        }
        var datas = [UInt64](repeating: 0, count: 1024)
        var masks = [UInt32](repeating: 0, count: 1024)
        while active > 0 {
            let now = Clock.monotonicNanos()
            var timeout: Int32 = 1000
            if let next = timers.next { timeout = next <= now ? 0 : Int32(min(1000, (next - now) / 1_000_000 + 1)) }
            let n = cshim_epoll_wait(epfd, &datas, &masks, 1024, timeout)
            if n > 0 {
                for k in 0..<Int(n) { handle(users[Int(datas[k])], masks[k]) }
            }
            fireTimers()
        }
        close(epfd)
    }

    private func pause(_ step: Int) -> UInt64 {
        UInt64(Double(steps[step].pauseMillis) * pauseScale * 1_000_000)
    }

    private func fireTimers() {
        let now = Clock.monotonicNanos()
        while let next = timers.next, next <= now, let t = timers.pop() {
            let u = users[Int(t.user)]
            guard t.gen == u.generation else { continue }
            switch u.phase {
            case .waiting:
                progress.usersStarted.add(1, ordering: .relaxed)
                startRequest(u)
            case .pausing:
                startRequest(u)
            case .inFlight:
                closeConnection(u)
                finish(u, status: 0, body: [], error: "timeout after \(timeoutNanos / 1_000_000) ms", keepAlive: false)
            case .done:
                break
            }
        }
    }

    private func startRequest(_ u: VirtualUser) {
        u.phase = .inFlight
        u.generation &+= 1
        u.out = Plan.request(steps[u.step], u.state, host: host, port: port)
        u.outPos = 0
        u.inbuf.removeAll(keepingCapacity: true)
        u.retried = false
        u.sampleStart = Clock.monotonicNanos()
        timers.push(u.sampleStart + timeoutNanos, u.index, u.generation)
        send(u)
    }

    /// Connects if needed, then writes what is pending.
    private func send(_ u: VirtualUser) {
        if u.fd < 0 {
            let fd = socket(
                AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { return fail(u, "socket: \(String(cString: strerror(errno)))") }
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            if !sources.isEmpty {
                var local = sockaddr_in()
                local.sin_family = sa_family_t(AF_INET)
                local.sin_addr = sources[Int(u.index) % sources.count]
                let bound = withUnsafePointer(to: &local) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
                if bound < 0 {
                    let e = errno
                    close(fd)
                    return fail(u, "bind to a source address: \(String(cString: strerror(e)))")
                }
            }
            var addr = address
            let rc = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            if rc < 0 && errno != EINPROGRESS {
                let e = errno
                close(fd)
                return fail(u, "connect: \(String(cString: strerror(e)))")
            }
            u.fd = fd
            u.connecting = rc < 0
            u.requestsOnConnection = 0
            u.interest = 0
            if u.connecting { return watch(u, CSHIM_EPOLLOUT | CSHIM_EPOLLIN) }
        }
        while u.outPos < u.out.count {
            let n = u.out.withUnsafeBufferPointer {
                Glibc.send(u.fd, $0.baseAddress! + u.outPos, $0.count - u.outPos, Int32(MSG_NOSIGNAL))
            }
            if n > 0 {
                u.outPos += n
                continue
            }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return watch(u, CSHIM_EPOLLOUT | CSHIM_EPOLLIN) }
            return connectionLost(u, "send: \(String(cString: strerror(errno)))")
        }
        u.requestsOnConnection += 1
        watch(u, CSHIM_EPOLLIN)
    }

    private func watch(_ u: VirtualUser, _ mask: UInt32) {
        guard u.interest != mask else { return }
        if u.interest == 0 {
            _ = cshim_epoll_add(epfd, u.fd, mask, UInt64(u.index))
        } else {
            _ = cshim_epoll_mod(epfd, u.fd, mask, UInt64(u.index))
        }
        u.interest = mask
    }

    private func handle(_ u: VirtualUser, _ mask: UInt32) {
        guard u.fd >= 0 else { return }
        if u.connecting && (mask & (CSHIM_EPOLLOUT | CSHIM_EPOLLERR | CSHIM_EPOLLHUP)) != 0 {
            var err: Int32 = 0
            var len = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(u.fd, SOL_SOCKET, SO_ERROR, &err, &len)
            if err != 0 {
                closeConnection(u)
                return fail(u, "connect: \(String(cString: strerror(err)))")
            }
            u.connecting = false
        }
        if u.phase == .inFlight && u.outPos < u.out.count && (mask & CSHIM_EPOLLOUT) != 0 { send(u) }
        if (mask & (CSHIM_EPOLLIN | CSHIM_EPOLLHUP | CSHIM_EPOLLERR | CSHIM_EPOLLRDHUP)) != 0 { readFrom(u) }
    }

    private func readFrom(_ u: VirtualUser) {
        var eof = false
        while u.fd >= 0 {
            let n = readBuffer.withUnsafeMutableBufferPointer { recv(u.fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                u.inbuf.append(contentsOf: readBuffer[0..<n])
                continue
            }
            if n == 0 {
                eof = true
                break
            }
            if errno == EAGAIN || errno == EWOULDBLOCK { break }
            if errno == EINTR { continue }
            eof = true
            break
        }
        guard u.phase == .inFlight else {
            // Bytes or a close while idle: the server ended the keep-alive connection.
            if eof { closeConnection(u) }
            return
        }
        switch WireResponse.parse(u.inbuf, eof: eof) {
        case .incomplete:
            if eof { connectionLost(u, "connection closed before a response") }
        case .malformed(let why):
            closeConnection(u)
            finish(u, status: 0, body: [], error: "malformed response: \(why)", keepAlive: false)
        case .complete(let status, let body, let keepAlive):
            if !keepAlive || eof { closeConnection(u) }
            finish(u, status: status, body: body, error: nil, keepAlive: keepAlive)
        }
    }

    /// The connection failed mid-request. A reused keep-alive connection that dies before any
    /// response byte is retried once on a fresh one (the server closed it while idle).
    private func connectionLost(_ u: VirtualUser, _ why: String) {
        let canRetry = u.inbuf.isEmpty && u.requestsOnConnection > 1 && !u.retried
        closeConnection(u)
        if canRetry {
            u.retried = true
            u.outPos = 0
            send(u)
        } else {
            finish(u, status: 0, body: [], error: why, keepAlive: false)
        }
    }

    private func fail(_ u: VirtualUser, _ why: String) {
        finish(u, status: 0, body: [], error: why, keepAlive: false)
    }

    private func closeConnection(_ u: VirtualUser) {
        guard u.fd >= 0 else { return }
        _ = cshim_epoll_del(epfd, u.fd)
        close(u.fd)
        u.fd = -1
        u.interest = 0
        u.connecting = false
    }

    /// Records the sample (JMeter's verdict), extracts variables, and moves to the next step.
    private func finish(_ u: VirtualUser, status: Int, body: [UInt8], error: String?, keepAlive: Bool) {
        let end = Clock.monotonicNanos()
        let step = steps[u.step]
        let json = body.isEmpty ? nil : try? JSON.parse(body)
        var verdict = error
        if verdict == nil { verdict = step.verdict(status: status, json: json, state: u.state) }
        stats.record(step.label, startNanos: u.sampleStart, endNanos: end, error: verdict)
        progress.samples.add(1, ordering: .relaxed)
        if verdict != nil { progress.errors.add(1, ordering: .relaxed) }
        step.extract(json, u.state)
        u.step += 1
        u.generation &+= 1
        if u.step < steps.count {
            u.phase = .pausing
            timers.push(end + pause(u.step), u.index, u.generation)
        } else {
            u.phase = .done
            closeConnection(u)
            active -= 1
            progress.usersDone.add(1, ordering: .relaxed)
        }
    }
}
