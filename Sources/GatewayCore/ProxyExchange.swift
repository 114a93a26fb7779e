import CShim
import Glibc
import ServiceCore

/// One proxied request on the event loop: picks an instance, connects (or reuses a pooled
/// socket) without blocking, writes the request, reads the answer and relays it — whole when
/// it is small, else streamed with backpressure from the client connection.
///
/// Retries: a connect failure tries the next instance (the request never left). A reused
/// socket that fails before any answer byte is retried once on a fresh connection only when the
/// write itself failed or the request is safe to repeat (`ForwardPlan.repeatable`); anything
/// else that may have reached the upstream is answered 502/504, never sent again.
final class ProxyExchange: FDWatcher {
    private enum Phase { case connecting, sending, awaitingHead, streaming, done }

    let plan: ForwardPlan
    private let responder: Responder
    private let loop: ProxyLoop
    private var phase = Phase.connecting
    private var tried = Set<Int>()
    private var connectFailed = false
    private var instance: UpstreamInstance?
    private var fd: Int32 = -1
    private var reused = false
    private var wire: [UInt8] = []
    private var sent = 0
    private var input: [UInt8] = []
    private var head: ResponseHead?
    private var remaining = 0
    private var untilClose = false
    /// Set when the upstream sends chunked: decoded here, re-framed by the server for the client.
    private var chunks: ChunkedDecoder?
    private var paused = false
    /// Monotonic ms after which the exchange times out (pushed forward while a body flows).
    private(set) var deadline: UInt64 = .max

    /// Bodies up to this size are collected and answered whole; larger ones are streamed.
    static let wholeBodyLimit = 64 * 1024

    init(plan: ForwardPlan, responder: Responder, loop: ProxyLoop) {
        self.plan = plan
        self.responder = responder
        self.loop = loop
    }

    func start() {
        deadline = now + UInt64(plan.timeoutMillis)
        loop.started(self)
        responder.onClientGone = { [unowned self] in self.clientGone() }
        nextInstance()
    }

    private var now: UInt64 { Clock.monotonicNanos() / 1_000_000 }

    // MARK: instance and socket

    private func nextInstance() {
        guard let index = plan.pool.acquire(excluding: tried) else {
            // Nothing reached an upstream: safe to send again, after a pause.
            let answer: HTTPResponse =
                connectFailed
                ? .error(502, "bad gateway: no \(plan.group.rawValue) instance reachable")
                : .error(503, "service unavailable: every \(plan.group.rawValue) instance is failing")
            finish(answer.retryAfter())
            return
        }
        tried.insert(index)
        let chosen = plan.pool.instances[index]
        instance = chosen
        chosen.inFlight.add(1, ordering: .relaxed)
        chosen.requests.add(1, ordering: .relaxed)
        wire = plan.request.wire(for: chosen.endpoint)
        if let pooled = loop.take(chosen.endpoint, now: now, probe: !plan.repeatable) {
            fd = pooled
            reused = true
            loop.io.reassign(pooled, to: self)
            phase = .sending
            send()
        } else {
            connect()
        }
    }

    private func connect() {
        guard let chosen = instance else { return }
        reused = false
        sent = 0
        let socket = cshim_connect_start(chosen.endpoint.host, Int32(chosen.endpoint.port))
        guard socket >= 0 else { return connectFailure(String(cString: strerror(-socket))) }
        fd = socket
        phase = .connecting
        loop.io.watch(socket, .writable, self)
    }

    private func connectFailure(_ message: String) {
        dropSocket()
        releaseInstance(failure: "connect: \(message)")
        connectFailed = true
        nextInstance()
    }

    // MARK: events

    func ioEvent(_ events: IOEvents) {
        switch phase {
        case .connecting:
            let err = cshim_socket_error(fd)
            if err != 0 { return connectFailure(String(cString: strerror(err))) }
            phase = .sending
            send()
        case .sending:
            send()
        case .awaitingHead, .streaming:
            if !paused { return receive() }
            // Epoll reports errors even with no events asked for: stop watching until the client
            // catches up; the read on resuming then sees the error.
            if !events.isDisjoint(with: .failed) { loop.io.unwatch(fd) }
        case .done:
            break
        }
    }

    private func send() {
        while sent < wire.count {
            let n = wire.withUnsafeBytes { write(fd, $0.baseAddress! + sent, $0.count - sent) }
            if n > 0 {
                sent += n
                continue
            }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && errno == EAGAIN {
                loop.io.change(fd, .writable)
                return
            }
            // The server closed a pooled socket: it has not got the request, a fresh one may carry it.
            if reused {
                dropSocket()
                return connect()
            }
            return upstreamFailed("send: \(String(cString: strerror(errno)))")
        }
        phase = .awaitingHead
        loop.io.change(fd, .readable)
    }

    private func receive() {
        while phase == .awaitingHead || (phase == .streaming && !paused) {
            let n = read(fd, loop.buffer.baseAddress, loop.buffer.count)
            if n > 0 {
                received(UnsafeRawBufferPointer(rebasing: loop.buffer[0..<n]))
            } else if n == 0 {
                return upstreamClosed()
            } else if errno == EINTR {
                continue
            } else if errno == EAGAIN {
                return
            } else {
                return upstreamFailed("recv: \(String(cString: strerror(errno)))")
            }
        }
    }

    private func received(_ bytes: UnsafeRawBufferPointer) {
        if phase == .streaming { return relay(bytes) }
        input.append(contentsOf: bytes)
        if head == nil {
            switch input.withUnsafeBytes({ ResponseHead.parse($0) }) {
            case .incomplete: return
            case .invalid(let why): return upstreamFailed("malformed response: \(why)")
            case .head(let h): head = h
            }
        }
        guard let h = head else { return }
        let body = input.count - h.length
        switch h.framing(forHead: plan.request.isHead) {
        case .none:
            answerWhole(h, body: [])
        case .length(let n) where body >= n:
            answerWhole(h, body: Array(input[h.length..<(h.length + n)]))
        case .length(let n) where n <= Self.wholeBodyLimit:
            return // small body still arriving: answer it whole
        case .length(let n):
            beginStream(h, contentLength: n)
        case .untilClose:
            untilClose = true
            beginStream(h, contentLength: nil)
        case .chunked:
            chunks = ChunkedDecoder()
            beginStream(h, contentLength: nil)
        }
    }

    // MARK: answering

    private func answerWhole(_ h: ResponseHead, body: [UInt8]) {
        recordOutcome(h.status)
        let reusable = !h.closes && input.count == h.length + body.count
        var response = HTTPResponse(status: h.status, headers: relayedHeaders(h), body: body)
        response.headers.append(("x-request-id", plan.requestId))
        // A HEAD answer keeps the length the upstream gave for its GET (RFC 9110 §9.3.2).
        if plan.request.isHead, let n = h.contentLength { response = response.headOnly(length: n) }
        complete(reusable: reusable)
        responder.respond(response)
    }

    private func beginStream(_ h: ResponseHead, contentLength: Int?) {
        recordOutcome(h.status)
        phase = .streaming
        remaining = contentLength ?? .max
        var response = HTTPResponse(status: h.status, headers: relayedHeaders(h))
        response.headers.append(("x-request-id", plan.requestId))
        responder.startStream(response, contentLength: contentLength)
        let early = input[h.length...]
        input = []
        early.withUnsafeBytes { relay($0) }
    }

    /// Passes body bytes to the client; pauses reading while the client is behind.
    private func relay(_ bytes: UnsafeRawBufferPointer) {
        guard phase == .streaming, !bytes.isEmpty else { return }
        deadline = now + UInt64(plan.timeoutMillis)
        let used: Int
        let ended: Bool
        if var decoder = chunks {
            do {
                used = try decoder.feed(bytes) { [responder] in _ = responder.write($0) }
            } catch {
                return upstreamFailed("malformed chunked body: \(error.reason)")
            }
            chunks = decoder
            ended = decoder.finished
        } else {
            used = min(bytes.count, remaining)
            if remaining != .max { remaining -= used }
            responder.write(UnsafeRawBufferPointer(rebasing: bytes[0..<used]))
            ended = remaining == 0
        }
        guard phase == .streaming, responder.isOpen else { return } // the client left while being written to
        if ended {
            complete(reusable: used == bytes.count && !(head?.closes ?? true))
            responder.finish()
            return
        }
        if !responder.wantsMore {
            paused = true
            deadline = .max // waiting on the client now; the server's write timeout covers a stalled one
            loop.io.change(fd, [])
            responder.whenDrained { [unowned self] in self.resume() }
        }
    }

    private func resume() {
        guard phase == .streaming, paused else { return }
        paused = false
        deadline = now + UInt64(plan.timeoutMillis)
        loop.io.change(fd, .readable)
        receive()
    }

    private func relayedHeaders(_ h: ResponseHead) -> [(name: String, value: String)] {
        h.headers.filter { !Proxy.droppedResponseHeaders.contains($0.name) }
    }

    // MARK: failures

    private func upstreamClosed() {
        if phase == .streaming && untilClose {
            complete(reusable: false)
            responder.finish()
            return
        }
        upstreamFailed("recv: connection closed")
    }

    private func upstreamFailed(_ reason: String) {
        if phase == .streaming {
            // Part of the answer is out: the client must see it cut short, not complete.
            dropSocket()
            releaseInstance(failure: reason)
            end()
            responder.abort()
            return
        }
        if reused && input.isEmpty && phase == .awaitingHead && plan.repeatable {
            dropSocket()
            return connect()
        }
        dropSocket()
        releaseInstance(failure: reason)
        // The request may have reached the upstream and been committed before it failed: the
        // client must not take this for "not done" and simply send it again.
        finish(
            HTTPResponse.error(
                502,
                "bad gateway: the \(plan.group.rawValue) service failed before answering; a write in flight "
                    + "may or may not have been recorded: retry with the same Idempotency-Key, or check before "
                    + "sending it again"
            ).retryAfter())
    }

    func timedOut() {
        guard phase != .done else { return }
        dropSocket()
        releaseInstance(failure: "timed out")
        if phase == .streaming {
            end()
            responder.abort()
        } else {
            finish(.error(504, "gateway timeout: \(plan.group.rawValue) service did not answer in time"))
        }
    }

    /// A body without a length (an event stream) whose client closed its side: nginx never
    /// half-closes an upstream connection, so it has left; let go of the upstream now instead of
    /// at the next relayed write that fails (up to a heartbeat later).
    func checkClient() {
        guard phase == .streaming, remaining == .max, responder.inputClosed else { return }
        clientGone()
        responder.abort()
    }

    private func clientGone() {
        guard phase != .done else { return }
        dropSocket()
        if let chosen = instance {
            chosen.breaker.abandonProbe()
            chosen.inFlight.subtract(1, ordering: .relaxed)
            instance = nil
        }
        end()
    }

    // MARK: bookkeeping

    private func recordOutcome(_ status: Int) {
        guard let chosen = instance else { return }
        if status >= 500 && status != 503 {
            plan.fail(chosen, "status \(status)")
        } else if status == 503 {
            chosen.breaker.recordNeutral()
        } else if chosen.breaker.recordSuccess() {
            plan.logger.info(
                "breaker closed",
                metadata: ["upstream": .string(plan.group.rawValue), "endpoint": .string(chosen.endpoint.description)])
        }
    }

    /// The upstream part is over: pool or close the socket, free the instance and the bulkhead.
    private func complete(reusable: Bool) {
        if let chosen = instance, fd >= 0, reusable {
            loop.giveBack(fd, chosen.endpoint, now: now)
            fd = -1
        }
        dropSocket()
        instance?.inFlight.subtract(1, ordering: .relaxed)
        instance = nil
        end()
    }

    private func releaseInstance(failure reason: String) {
        guard let chosen = instance else { return }
        chosen.inFlight.subtract(1, ordering: .relaxed)
        plan.fail(chosen, reason)
        instance = nil
    }

    private func dropSocket() {
        guard fd >= 0 else { return }
        loop.io.unwatch(fd)
        close(fd)
        fd = -1
    }

    private func finish(_ response: HTTPResponse) {
        var response = response
        response.headers.append(("x-request-id", plan.requestId))
        end()
        responder.respond(response)
    }

    private func end() {
        guard phase != .done || deadline != 0 else { return }
        phase = .done
        deadline = 0
        paused = false
        responder.onClientGone = nil
        loop.ended(self)
        plan.bulkhead.leave(bytes: plan.request.bytes)
    }
}
