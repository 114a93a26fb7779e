import CShim
import Glibc

/// A Redis connection on an event loop: commands are written without blocking and each reply is
/// handed to its callback from a loop event, so an async route can read Redis without holding a
/// worker. One per loop (`Responder.redis`); loop-thread only. Commands queued while the loop
/// handles one batch of events go out in one write after it (pipelined), so a burst of reads
/// costs Redis and the loop one system call each way rather than one per request.
///
/// Failure never waits: a callback gets nil when Redis is unreachable (or its name is still being
/// looked up, off the loop: `HostResolver`), the connection breaks, or
/// no reply came within `timeoutMillis` (a hung Redis: the connection is then dropped), and for
/// `retryMillis` after a failure new commands get nil at once instead of reconnecting per request.
/// Callers treat nil as a miss (the balance read falls back to PostgreSQL).
public final class LoopRedis: FDWatcher {
    public typealias Callback = (RedisReply?) -> Void
    /// A named struct rather than a tuple: tuple arrays make the runtime look up their metadata per use.
    private struct Waiter {
        let deadline: UInt64
        let done: Callback
    }

    private let target: RedisTarget
    private let io: LoopIO
    /// `target`'s host as a numeric address, looked up off the loop.
    private let resolver: HostResolver
    let timeoutMillis: UInt64
    let retryMillis: UInt64
    /// Commands waiting for a reply; beyond this, new ones fail at once (bounded memory).
    public var maxPending = 4096

    private var fd: Int32 = -1
    private var connected = false
    private var out: [UInt8] = []
    private var outPos = 0
    private var input: [UInt8] = []
    /// Replies arrive in command order: the head of this queue gets the next one.
    private var waiting: [Waiter] = []
    private var waitingHead = 0
    private var retryAt: UInt64 = 0
    /// Commands were added since the last write.
    private var queued = false
    private let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 16 * 1024, alignment: 1)

    public init(_ target: RedisTarget, io: LoopIO, timeoutMillis: UInt64 = 250, retryMillis: UInt64 = 500) {
        self.target = target
        self.io = io
        resolver = HostResolver(target.endpoint.host)
        self.timeoutMillis = timeoutMillis
        self.retryMillis = retryMillis
        io.onTick { [weak self] now in self?.expire(now) }
        io.afterEvents { [weak self] in self?.flushQueued() }
    }

    deinit {
        readBuffer.deallocate()
        if fd >= 0 {
            io.unwatch(fd)
            close(fd)
        }
    }

    /// Commands sent and not answered yet.
    public var pending: Int { waiting.count - waitingHead }

    /// Sends one command; `done` runs on this loop with the reply (a Redis error is `.error`),
    /// or nil when there will be none. It may run before `send` returns (Redis known down).
    public func send(_ args: [[UInt8]], _ done: @escaping Callback) {
        let now = Clock.monotonicNanos() / 1_000_000
        guard pending < maxPending, fd >= 0 || open(now) else {
            done(nil)
            return
        }
        RESP.encode(args, into: &out)
        waiting.append(Waiter(deadline: now + timeoutMillis, done: done))
        queued = true // written after this batch of loop events, with the commands of other requests
    }

    public func send(_ args: [String], _ done: @escaping Callback) {
        send(args.map { Array($0.utf8) }, done)
    }

    // MARK: connection

    /// Starts a non-blocking connect (AUTH queued first); false while Redis is known down.
    private func open(_ now: UInt64) -> Bool {
        guard now >= retryAt, let host = resolver.address() else { return false }
        let s = cshim_connect_start(host, Int32(target.endpoint.port))
        guard s >= 0 else {
            resolver.invalidate()
            retryAt = now + retryMillis
            return false
        }
        fd = s
        connected = false
        io.watch(fd, [.readable, .writable], self)
        if let password = target.password {
            RESP.encode([Array("AUTH".utf8), Array(password.utf8)], into: &out)
            waiting.append(
                Waiter(
                    deadline: now + timeoutMillis,
                    done: { [weak self] reply in
                        // Refused: every command behind it would get NOAUTH; treat Redis as down.
                        if case .error = reply { self?.fail() }
                    }))
        }
        return true
    }

    public func ioEvent(_ events: IOEvents) {
        if !connected {
            // The non-blocking connect finished: refused or reset shows as an error here.
            guard !events.contains(.failed), cshim_socket_error(fd) == 0 else {
                fail()
                return
            }
            connected = true
        }
        if events.contains(.readable) || events.contains(.failed) {
            readReplies()
            guard fd >= 0 else { return }
        }
        flush()
    }

    private func flushQueued() {
        guard queued else { return }
        queued = false
        if connected { flush() }
    }

    private func flush() {
        while outPos < out.count {
            let n = out.withUnsafeBytes { write(fd, $0.baseAddress! + outPos, $0.count - outPos) }
            if n > 0 {
                outPos += n
                continue
            }
            if n < 0 && (errno == EAGAIN || errno == EINTR) { break }
            fail()
            return
        }
        if outPos == out.count {
            out.removeAll(keepingCapacity: out.capacity <= 64 * 1024)
            outPos = 0
        }
        io.change(fd, outPos < out.count ? [.readable, .writable] : .readable)
    }

    private func readReplies() {
        var broken = false
        while true {
            let n = read(fd, readBuffer.baseAddress, readBuffer.count)
            if n > 0 {
                input.append(contentsOf: UnsafeRawBufferPointer(rebasing: readBuffer[0..<n]))
                if n < readBuffer.count { break }
                continue
            }
            // Closed by Redis, or a socket error: answer what did arrive, then fail the rest.
            broken = !(n < 0 && (errno == EAGAIN || errno == EINTR))
            break
        }
        var used = 0
        while used < input.count {
            let parsed = input.withUnsafeBytes { RESP.parse(UnsafeRawBufferPointer(rebasing: $0[used...])) }
            guard case .reply(let reply, let length) = parsed else {
                if case .invalid = parsed {
                    fail()
                    return
                }
                break
            }
            used += length
            guard waitingHead < waiting.count else {
                fail()
                return
            } // a reply nobody asked for
            let done = waiting[waitingHead].done
            waitingHead += 1
            done(reply)
            guard fd >= 0 else { return } // the callback's failure path closed us
        }
        if used == input.count { input.removeAll(keepingCapacity: true) } else if used > 0 { input.removeFirst(used) }
        if waitingHead == waiting.count {
            waiting.removeAll(keepingCapacity: true)
            waitingHead = 0
        } else if waitingHead >= 1024 && waitingHead * 2 >= waiting.count {
            // Under steady load the queue may never empty: drop the answered part now and then.
            waiting.removeFirst(waitingHead)
            waitingHead = 0
        }
        if broken { fail() }
    }

    /// A reply overdue: Redis is stuck; stop waiting for it.
    private func expire(_ now: UInt64) {
        guard waitingHead < waiting.count, waiting[waitingHead].deadline <= now else { return }
        fail()
    }

    /// Drops the connection and answers every waiting command with nil.
    private func fail() {
        // Never connected: the name may point somewhere else by now.
        if !connected { resolver.invalidate() }
        if fd >= 0 {
            io.unwatch(fd)
            close(fd)
            fd = -1
        }
        connected = false
        out.removeAll()
        outPos = 0
        input.removeAll()
        retryAt = Clock.monotonicNanos() / 1_000_000 + retryMillis
        let orphans = waiting[waitingHead...]
        waiting = []
        waitingHead = 0
        for w in orphans { w.done(nil) }
    }
}

extension Responder {
    /// This loop's non-blocking Redis connection (the service's `DT_REDIS`), made on first use.
    public var redis: LoopRedis {
        let io = self.io
        return context.local(LoopRedis.self) { LoopRedis(context.config.redis, io: io) }
    }
}
