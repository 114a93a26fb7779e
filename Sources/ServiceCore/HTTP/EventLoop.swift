import CShim
import Glibc
import Synchronization

/// One epoll loop on its own thread with its own SO_REUSEPORT listener (loop 0 also the Unix
/// socket, when the server has one). It parses requests, runs inline handlers itself, hands
/// blocking ones to the worker pool, and writes responses in order.
final class EventLoop: @unchecked Sendable {
    /// Listener i's epoll tag (0: the TCP one, 1: the Unix one); wakeTag sits between them.
    private static func listenerTag(_ i: Int) -> UInt64 { i == 0 ? UInt64.max : UInt64.max - 1 - UInt64(i) }
    private static let wakeTag: UInt64 = UInt64.max - 1

    let index: Int
    let epfd: Int32
    private let wakeFd: Int32
    private var listenFds: [Int32]
    private var listening = false
    let server: HTTPServerCore
    private var connections = ConnectionTable()
    var nextId: UInt64 = 1
    private let completions = Mutex<[(UInt64, HTTPResponse, Bool, MetricsLabel, UInt64)]>([])
    /// Work handed back to this loop by other threads (`runOnLoop`), e.g. an offloaded read's answer.
    private let loopTasks = Mutex<[LoopTask]>([])
    private let stopRequested = Atomic<Bool>(false)
    private var draining = false
    private var drainDeadline: UInt64 = 0
    private(set) var dateLine: [UInt8] = []
    private var lastTick: UInt64 = 0
    /// Monotonic ms when the current batch of events came back from epoll_wait: the activity
    /// time of every read and write in the batch (ms-grained timeouts need no clock call each).
    private var batchMillis: UInt64 = 0
    private var context: WorkerContext?
    let openConnections = Atomic<Int>(0)
    /// Descriptors owned by async handlers (upstream sockets), by fd, with their epoll ids.
    var watchers: [Int32: (id: UInt64, events: IOEvents, watcher: FDWatcher)] = [:]
    var tickers: [(UInt64) -> Void] = []
    /// Run once after each batch of events (e.g. to send what handlers queued, in one write).
    var afterEvents: [() -> Void] = []
    private(set) lazy var io = LoopIO(loop: self)
    /// Set while a request is dispatched: an async handler answering at once must not re-enter processInput.
    var dispatching = false
    var isDraining: Bool { draining }

    init(index: Int, listenFds: [Int32], server: HTTPServerCore) throws {
        self.index = index
        self.listenFds = listenFds
        self.server = server
        epfd = cshim_epoll_create()
        wakeFd = cshim_eventfd()
        guard epfd >= 0, wakeFd >= 0 else { throw HTTPServerError.system("epoll/eventfd", errno) }
        _ = cshim_epoll_add(epfd, wakeFd, CSHIM_EPOLLIN, EventLoop.wakeTag)
        listening = addListeners()
        refreshDate()
    }

    deinit {
        close(epfd)
        close(wakeFd)
    }

    // MARK: thread entry

    func run() {
        context = server.makeContext(-1 - index)
        var datas = [UInt64](repeating: 0, count: 256)
        var masks = [UInt32](repeating: 0, count: 256)
        while true {
            if stopRequested.load(ordering: .acquiring) && !draining { beginDrain() }
            let n = datas.withUnsafeMutableBufferPointer { d in
                masks.withUnsafeMutableBufferPointer { m in
                    cshim_epoll_wait(epfd, d.baseAddress, m.baseAddress, 256, draining ? 100 : 500)
                }
            }
            batchMillis = Clock.monotonicNanos() / 1_000_000
            for i in 0..<max(0, Int(n)) {
                let tag = datas[i]
                let mask = masks[i]
                if tag == EventLoop.wakeTag {
                    _ = cshim_eventfd_drain(wakeFd)
                    deliverCompletions()
                    runLoopTasks()
                } else if let listener = listenerIndex(tag) {
                    acceptAll(listenFds[listener])
                } else {
                    handle(fd: Int32(truncatingIfNeeded: tag & 0xffff_ffff), id: tag >> 32, mask: mask)
                }
            }
            let now = Clock.monotonicNanos() / 1_000_000
            if now &- lastTick >= 250 { tick(now) }
            for body in afterEvents { body() }
            if draining && (connections.isEmpty || now >= drainDeadline) { break }
        }
        for conn in connections.all { closeConnection(conn) }
    }

    /// Called from any thread: stop accepting, finish what is in flight, then end the loop.
    func requestStop() {
        stopRequested.store(true, ordering: .releasing)
        _ = cshim_eventfd_signal(wakeFd)
    }

    // MARK: accepting

    /// The listener an epoll tag names, if any. Listener tags are the top values (connections'
    /// are id << 32 | fd), so a connection's event costs one compare here.
    private func listenerIndex(_ tag: UInt64) -> Int? {
        guard tag > UInt64.max - 3 else { return nil }
        return listenFds.indices.first { EventLoop.listenerTag($0) == tag }
    }

    private func addListeners() -> Bool {
        listenFds.indices.allSatisfy {
            cshim_epoll_add(epfd, listenFds[$0], CSHIM_EPOLLIN, EventLoop.listenerTag($0)) == 0
        }
    }

    private func removeListeners() {
        for fd in listenFds { _ = cshim_epoll_del(epfd, fd) }
    }

    private func acceptAll(_ listenFd: Int32) {
        var addr = [CChar](repeating: 0, count: 64)
        for _ in 0..<128 {
            let fd = addr.withUnsafeMutableBufferPointer { cshim_accept(listenFd, $0.baseAddress, 64) }
            if fd < 0 {
                if -fd == EMFILE || -fd == ENFILE {
                    // Out of descriptors: stop polling the listener until the next tick frees some.
                    removeListeners()
                    listening = false
                    server.logger.warning("accept: out of file descriptors")
                }
                return
            }
            let id = nextId
            nextId += 1
            let remote = addr.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            let conn = Connection(fd: fd, id: id, remoteAddress: remote, now: Clock.monotonicNanos() / 1_000_000)
            connections[fd] = conn
            openConnections.add(1, ordering: .relaxed)
            updateInterest(conn)
        }
    }

    // MARK: socket events

    private func handle(fd: Int32, id: UInt64, mask: UInt32) {
        // A descriptor is either a client connection or a watched one; the id tells a stale
        // event for a closed descriptor from one for the new owner of its number.
        guard let conn = connections[fd], conn.id & 0xffff_ffff == id else {
            if let w = watchers[fd], w.id & 0xffff_ffff == id { w.watcher.ioEvent(IOEvents(rawValue: mask)) }
            return
        }
        if mask & (CSHIM_EPOLLERR | CSHIM_EPOLLHUP) != 0 && mask & CSHIM_EPOLLIN == 0 {
            closeConnection(conn)
            return
        }
        if mask & CSHIM_EPOLLOUT != 0 {
            flush(conn)
            if connections[fd] == nil { return }
        }
        if mask & CSHIM_EPOLLIN != 0 { readFrom(conn) }
    }

    private func readFrom(_ conn: Connection) {
        conn.reserveInput(4096)
        let free = conn.inbuf.count - conn.inCount
        let at = conn.inCount
        // recv/send rather than read/write: the socket calls skip the file layer (no f_pos lock, no
        // rw_verify_area), which is a measurable part of the kernel's cost per request.
        let n = conn.inbuf.withUnsafeMutableBytes { recv(conn.fd, $0.baseAddress! + at, free, 0) }
        if n > 0 {
            conn.inCount += n
            conn.lastActive = batchMillis
            if conn.requestStarted == 0 && conn.pendingHead == nil && !conn.inFlight {
                conn.requestStarted = conn.lastActive
            }
            processInput(conn)
        } else if n == 0 {
            conn.peerClosed = true
            processInput(conn)
        } else if errno != EAGAIN && errno != EINTR {
            closeConnection(conn)
        }
    }

    /// Parses and dispatches every complete request in the buffer, stopping at one that went to
    /// the worker pool (its response must be written before the next request's).
    func processInput(_ conn: Connection) {
        while !conn.busy && conn.file == nil && !conn.closeAfterWrite && conn.pendingInput > 0 {
            if let pending = conn.pendingHead {
                guard conn.pendingInput >= pending.headLength + pending.bodyLength else { break }
                var request = pending.request
                let start = conn.readPos + pending.headLength
                request.body = Array(conn.inbuf[start..<(start + pending.bodyLength)])
                conn.readPos = start + pending.bodyLength
                conn.pendingHead = nil
                conn.requestStarted = conn.pendingInput > 0 ? conn.lastActive : 0
                dispatch(conn, request)
                continue
            }
            let from = conn.readPos
            let to = conn.inCount
            let parsed = conn.inbuf.withUnsafeBufferPointer { all in
                HTTPParser.parseHead(
                    UnsafeBufferPointer(rebasing: all[from..<to]), limits: server.limits, headers: &conn.headers)
            }
            // Consumed: binding the parsed request must not copy (retain) every field of it.
            switch consume parsed {
            case .incomplete:
                break
            case .blank(let n):
                conn.readPos += n
                if conn.pendingInput == 0 { conn.requestStarted = 0 }
                continue
            case .failure(let status, let message):
                respond(
                    conn, .error(status, message), keepAlive: false, route: .invalid, started: Clock.monotonicNanos())
            case .head(var request, let headLength, let bodyLength):
                request.remoteAddress = conn.remoteAddress
                if conn.pendingInput >= headLength + bodyLength {
                    // The whole request is here (the usual case): dispatch it without parking it.
                    let start = conn.readPos + headLength
                    if bodyLength > 0 { request.body = Array(conn.inbuf[start..<(start + bodyLength)]) }
                    conn.readPos = start + bodyLength
                    conn.requestStarted = conn.pendingInput > 0 ? conn.lastActive : 0
                    dispatch(conn, request)
                    continue
                }
                if request.expectsContinue {
                    guard answerExpectation(conn, request) else { break }
                }
                conn.pendingHead = (request, headLength, bodyLength)
                continue
            }
            break
        }
        conn.compactInput()
        if conn.peerClosed && !conn.busy && conn.file == nil {
            // The client finished sending: answer what is complete, then close.
            conn.closeAfterWrite = true
        }
        flush(conn)
    }

    /// `Expect: 100-continue` with the body still to come: the client waits for a go-ahead. A
    /// request that is going to be refused anyway (no such route, or no valid caller proof) gets
    /// its final status now, and the connection closes because the body it may still send is
    /// never read. False in that case.
    private func answerExpectation(_ conn: Connection, _ request: HTTPRequest) -> Bool {
        guard server.router.gate?(request) == nil,
            case .found = server.router.match(method: request.method, path: request.path)
        else {
            dispatch(conn, request, closeAfter: true)
            return false
        }
        conn.outbuf.append(contentsOf: "HTTP/1.1 100 Continue\r\n\r\n".utf8)
        return true
    }

    private func dispatch(_ conn: Connection, _ request: HTTPRequest, closeAfter: Bool = false) {
        let started = Clock.monotonicNanos()
        let keepAlive = request.wantsKeepAlive && !draining && !closeAfter
        if let refused = server.router.gate?(request) {
            respond(
                conn, request.method == "HEAD" ? refused.forHead() : refused, keepAlive: keepAlive, route: .refused,
                started: started)
            return
        }
        switch server.router.match(method: request.method, path: request.path) {
        case .notFound:
            respond(
                conn, .error(404, "no route for \(request.method) \(request.path)"), keepAlive: keepAlive,
                route: .unmatched, started: started)
        case .methodNotAllowed:
            respond(
                conn, .error(405, "method \(request.method) not allowed on \(request.path)"), keepAlive: keepAlive,
                route: .unmatched, started: started)
        case .found(let route):
            if let handler = route.async, let ctx = context {
                let responder = Responder(
                    loop: self, conn: conn, keepAlive: keepAlive, route: route.metricsLabel, started: started,
                    isHead: request.method == "HEAD", context: ctx)
                responder.http11 = request.versionMinor == 1
                conn.inFlight = true
                conn.responder = responder
                let outer = dispatching
                dispatching = true
                handler(request, responder)
                dispatching = outer
                return
            }
            if route.mode == .inline, let ctx = context {
                respond(
                    conn, server.run(route, request, ctx), keepAlive: keepAlive, route: route.metricsLabel,
                    started: started)
                return
            }
            conn.inFlight = true
            let connId = conn.id
            let accepted = server.pool.submit { [self, server] ctx in
                let response = server.run(route, request, ctx)
                // Only the first completion of a batch wakes the loop: it drains them all.
                let wasEmpty = completions.withLock { list in
                    list.append((connId, response, keepAlive, route.metricsLabel, started))
                    return list.count == 1
                }
                if wasEmpty { _ = cshim_eventfd_signal(wakeFd) }
            }
            if !accepted {
                conn.inFlight = false
                respond(
                    conn, .error(503, "server busy, try again"), keepAlive: keepAlive, route: route.metricsLabel,
                    started: started)
            }
        }
    }

    private func deliverCompletions() {
        let done = completions.withLock { items -> [(UInt64, HTTPResponse, Bool, MetricsLabel, UInt64)] in
            let taken = items
            items.removeAll(keepingCapacity: true)
            return taken
        }
        for (connId, response, keepAlive, label, started) in done {
            // The client may have gone while the worker ran; the fd may even be reused, hence the id check.
            guard let conn = findConnection(connId) else {
                response.bodyFile?.discard()
                server.metrics.record(
                    shard: index, route: label, status: response.status,
                    seconds: Double(Clock.monotonicNanos() - started) / 1e9)
                continue
            }
            conn.inFlight = false
            respond(conn, response, keepAlive: keepAlive && !draining, route: label, started: started)
            processInput(conn)
        }
    }

    /// Called from any thread: runs `task` on this loop's thread soon.
    func runOnLoop(_ task: LoopTask) {
        let wasEmpty = loopTasks.withLock { list in
            list.append(task)
            return list.count == 1
        }
        if wasEmpty { _ = cshim_eventfd_signal(wakeFd) }
    }

    private func runLoopTasks() {
        let tasks = loopTasks.withLock { list -> [LoopTask] in
            let taken = list
            list.removeAll(keepingCapacity: true)
            return taken
        }
        for t in tasks { t.run() }
    }

    private var byId: [UInt64: Int32] = [:]

    private func findConnection(_ id: UInt64) -> Connection? {
        guard let fd = byId[id], let c = connections[fd], c.id == id else { return nil }
        return c
    }

    func respond(_ conn: Connection, _ response: HTTPResponse, keepAlive: Bool, route: MetricsLabel, started: UInt64) {
        if let body = response.bodyFile {
            let fd = open(body.path, O_RDONLY | O_CLOEXEC)
            if fd < 0 {
                body.discard()
                respond(
                    conn, .error(500, "response body unavailable"), keepAlive: keepAlive, route: route, started: started
                )
                return
            }
            conn.file = (fd, body.length, body)
        }
        let keep = keepAlive && !response.closesConnection
        response.serialize(into: &conn.outbuf, keepAlive: keep, date: dateLine)
        if !keep { conn.closeAfterWrite = true }
        server.metrics.record(
            shard: index, route: route, status: response.status,
            seconds: Double(Clock.monotonicNanos() &- started) / 1e9)
        if response.status >= 500 && response.status != 503 {
            server.logger.warning(
                "request failed",
                metadata: ["route": .string(route.name), "status": .stringConvertible(response.status)])
        }
    }

    func flush(_ conn: Connection) {
        while conn.hasOutput {
            if conn.outPos == conn.outbuf.count, conn.file != nil {
                guard refillFromFile(conn) else {
                    closeConnection(conn)
                    return
                }
                if conn.file == nil {
                    // The file is sent: answer any requests that arrived behind it.
                    if conn.pendingInput > 0 || conn.peerClosed {
                        processInput(conn)
                        return
                    }
                    continue
                }
            }
            let n = conn.outbuf.withUnsafeBufferPointer { buf in
                send(conn.fd, buf.baseAddress! + conn.outPos, buf.count - conn.outPos, 0)
            }
            if n > 0 {
                conn.outPos += n
                conn.lastActive = batchMillis
            } else if n < 0 && (errno == EAGAIN || errno == EINTR) {
                break
            } else {
                closeConnection(conn)
                return
            }
        }
        if conn.streaming, let r = conn.responder, conn.unsent <= Responder.lowWater { r.outputDrained() }
        if !conn.hasOutput {
            conn.outbuf.removeAll(keepingCapacity: conn.outbuf.capacity <= 64 * 1024)
            conn.outPos = 0
            if conn.closeAfterWrite && !conn.busy {
                closeConnection(conn)
                return
            }
        }
        updateInterest(conn)
    }

    /// Moves the next chunk of a file body into the (drained) output buffer; false on a read error.
    private func refillFromFile(_ conn: Connection) -> Bool {
        guard let f = conn.file else { return true }
        conn.outbuf.removeAll(keepingCapacity: true)
        conn.outPos = 0
        if f.remaining == 0 {
            close(f.fd)
            f.body.discard()
            conn.file = nil
            return true
        }
        let want = min(f.remaining, 256 * 1024)
        conn.outbuf = [UInt8](unsafeUninitializedCapacity: want) { buf, count in
            let n = read(f.fd, buf.baseAddress, want)
            count = max(0, n)
        }
        guard !conn.outbuf.isEmpty else { return false } // the file shrank or failed
        conn.file = (f.fd, f.remaining - conn.outbuf.count, f.body)
        return true
    }

    private func updateInterest(_ conn: Connection) {
        var want: UInt32 = 0
        // Stop reading while a large backlog of pipelined input waits, or once we will close.
        if !conn.closeAfterWrite && !conn.peerClosed
            && conn.pendingInput < server.limits.maxBodyBytes + server.limits.maxHeaderBytes
        {
            want |= CSHIM_EPOLLIN
        }
        if conn.hasOutput { want |= CSHIM_EPOLLOUT }
        guard want != conn.registered || !conn.added else { return }
        let tag = (conn.id << 32) | UInt64(UInt32(bitPattern: conn.fd))
        if !conn.added {
            _ = cshim_epoll_add(epfd, conn.fd, want, tag)
            byId[conn.id] = conn.fd
            conn.added = true
        } else {
            _ = cshim_epoll_mod(epfd, conn.fd, want, tag)
        }
        conn.registered = want
    }

    func closeConnection(_ conn: Connection) {
        guard connections[conn.fd] === conn else { return }
        if let r = conn.responder {
            conn.responder = nil
            conn.streaming = false
            r.clientGone()
        }
        if let f = conn.file {
            close(f.fd)
            f.body.discard()
            conn.file = nil
        }
        connections[conn.fd] = nil
        byId[conn.id] = nil
        _ = cshim_epoll_del(epfd, conn.fd)
        close(conn.fd)
        openConnections.subtract(1, ordering: .relaxed)
    }

    // MARK: timers and drain

    private func refreshDate() {
        var buf = [CChar](repeating: 0, count: 64)
        let n = buf.withUnsafeMutableBufferPointer { cshim_http_date($0.baseAddress, 64) }
        dateLine = buf.prefix(Int(n)).map { UInt8(bitPattern: $0) }
    }

    private func tick(_ now: UInt64) {
        lastTick = now
        refreshDate()
        if !listening && !draining {
            listening = addListeners()
        }
        let limits = server.timeouts
        for t in tickers { t(now) }
        for conn in connections.all {
            // In flight, or a stream waiting on its producer rather than on the client.
            if conn.inFlight || (conn.streaming && conn.unsent == 0) { continue }
            if conn.hasOutput {
                if now &- conn.lastActive > limits.writeMillis { closeConnection(conn) }
            } else if conn.requestStarted != 0 || conn.pendingHead != nil {
                if now &- conn.requestStarted > limits.requestMillis {
                    // A request was begun but not finished in time (slow or stalled client).
                    conn.pendingHead = nil
                    conn.dropInput()
                    respond(
                        conn, .error(408, "request not completed in time"), keepAlive: false, route: .timeout,
                        started: Clock.monotonicNanos())
                    flush(conn)
                }
            } else if draining || now &- conn.lastActive > limits.idleMillis {
                closeConnection(conn)
            }
        }
    }

    private func beginDrain() {
        draining = true
        drainDeadline = Clock.monotonicNanos() / 1_000_000 + server.timeouts.drainMillis
        if listening { removeListeners() }
        listening = false
        for fd in listenFds { close(fd) }
        listenFds = []
        tick(Clock.monotonicNanos() / 1_000_000)
    }
}
