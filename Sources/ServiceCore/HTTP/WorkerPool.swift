import Dispatch

/// A fixed set of threads running blocking handlers, fed by a bounded FIFO. `submit` refuses when
/// the queue is full so callers can answer 503 at once instead of queueing without bound.
final class WorkerPool: @unchecked Sendable {
    typealias Job = (WorkerContext) -> Void

    private let condition = ThreadCondition()
    private var ring: [Job?]
    private var head = 0, count = 0
    private var stopping = false
    private let finished = DispatchGroup()
    let capacity: Int
    let size: Int

    init(size: Int, capacity: Int) {
        self.size = max(1, size)
        self.capacity = max(1, capacity)
        self.ring = Array(repeating: nil, count: self.capacity)
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
        condition.signal()
        return true
    }

    var queueDepth: Int {
        condition.lock()
        defer { condition.unlock() }
        return count
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
        while true {
            condition.lock()
            while count == 0 && !stopping { condition.wait() }
            if count == 0 && stopping {
                condition.unlock()
                return
            }
            let job = ring[head]
            ring[head] = nil
            head = (head + 1) % capacity
            count -= 1
            condition.unlock()
            job?(ctx)
        }
    }
}
