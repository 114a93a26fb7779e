import Dispatch

/// A fixed set of threads running blocking handlers, fed by a bounded FIFO. `submit` refuses when
/// the queue is full so callers can answer 503 at once instead of queueing without bound.
///
/// Once no job has been submitted for `idleReleaseMillis`, each worker gives back its
/// `ReleasedWhenIdle` state (`WorkerContext.releaseIdle`: its PostgreSQL and Redis connections).
/// A pool sized for a burst otherwise keeps one connection per worker, and PostgreSQL one backend
/// per connection, for as long as the process lives. Judged on the whole pool, not per worker, so
/// a trickle of requests spread over the workers never makes each of them reconnect. The last
/// worker to let go also trims malloc's arenas, so the burst's freed memory leaves the RSS too.
final class WorkerPool: @unchecked Sendable {
    typealias Job = (WorkerContext) -> Void

    private let condition = ThreadCondition()
    private var ring: [Job?]
    private var head = 0, count = 0
    private var stopping = false
    private let finished = DispatchGroup()
    private var lastSubmitNanos = Clock.monotonicNanos()
    /// Workers that ran a job since they last released (all of them at start).
    private var holdingWorkers: Int
    private var trimCount = 0
    let capacity: Int
    let size: Int
    let idleReleaseMillis: UInt64

    init(size: Int, capacity: Int, idleReleaseMillis: UInt64 = 0) {
        self.size = max(1, size)
        self.capacity = max(1, capacity)
        self.idleReleaseMillis = idleReleaseMillis
        self.ring = Array(repeating: nil, count: self.capacity)
        self.holdingWorkers = self.size
    }

    func start(makeContext: @escaping @Sendable (Int) -> WorkerContext) {
        for i in 0..<size {
            finished.enter()
            Threads.start(name: "worker-\(i)", stackSize: 1 << 20) { [self] in
                let ctx = makeContext(i)
                runWorker(ctx)
                finished.leave()
            }
        }
    }

    /// Queues a job; false when the queue is full or the pool is stopping.
    func submit(_ job: @escaping Job) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !stopping, count < capacity else { return false }
        ring[(head + count) % capacity] = job
        count += 1
        lastSubmitNanos = Clock.monotonicNanos()
        condition.signal()
        return true
    }

    var queueDepth: Int {
        condition.lock()
        defer { condition.unlock() }
        return count
    }

    /// Times the pool has trimmed malloc's arenas (once per quiet period, after every worker let go).
    var trims: Int {
        condition.lock()
        defer { condition.unlock() }
        return trimCount
    }

    /// Lets queued jobs finish, then ends the threads.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
        finished.wait()
    }

    private func runWorker(_ ctx: WorkerContext) {
        var holding = true // may hold connections: it ran a job since it last released them
        while true {
            condition.lock()
            var release = false
            while count == 0 && !stopping {
                guard holding && idleReleaseMillis > 0 else {
                    condition.wait()
                    continue
                }
                // Until the pool will have been quiet for idleReleaseMillis (every worker lets go
                // then, not a period after its own last job).
                let quietMillis = (Clock.monotonicNanos() &- lastSubmitNanos) / 1_000_000
                if quietMillis >= idleReleaseMillis {
                    release = true
                    break
                }
                condition.wait(millis: idleReleaseMillis - quietMillis)
            }
            if release {
                holdingWorkers -= 1
                let last = holdingWorkers == 0
                if last { trimCount += 1 }
                condition.unlock()
                ctx.releaseIdle()
                holding = false
                if last { MallocArenas.trim() }
                continue
            }
            if count == 0 && stopping {
                condition.unlock()
                return
            }
            let job = ring[head]
            ring[head] = nil
            head = (head + 1) % capacity
            count -= 1
            if !holding { holdingWorkers += 1 }
            condition.unlock()
            job?(ctx)
            holding = true
        }
    }
}
