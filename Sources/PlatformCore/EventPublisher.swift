import Glibc
import ServiceCore
import StreamCore

/// Sends the engine's events to Redis on its own thread, so the engine thread never waits for
/// Redis (a commit's clients are answered whether Redis is up, slow or gone). Whatever queued up
/// meanwhile goes out in one pipeline. While Redis is away the commands wait here (bounded: past
/// `maxQueued` the oldest are dropped and a `gap` marker is sent first once Redis is back, so the
/// stream service resets its readers); after each reconnect every current price is written again
/// (Redis may have restarted empty).
final class EventPublisher: @unchecked Sendable {
    let target: RedisTarget
    let logger: Logger
    let prices: PriceBoard
    let maxQueued: Int
    private let lock = ThreadCondition()
    private var queue: [[String]] = []
    private var dropped = false

    init(target: RedisTarget, logger: Logger, prices: PriceBoard, maxQueued: Int = 100_000) {
        self.target = target
        self.logger = logger
        self.prices = prices
        self.maxQueued = max(1, maxQueued)
    }

    func start() {
        Threads.start(name: "event-publisher") { [self] in run() }
    }

    /// Engine thread: queues a batch's commands and returns at once.
    func publish(_ commands: [[String]]) {
        guard !commands.isEmpty else { return }
        lock.lock()
        queue.append(contentsOf: commands)
        if queue.count > maxQueued {
            queue.removeFirst(queue.count - maxQueued)
            dropped = true
        }
        lock.signal()
        lock.unlock()
    }

    private func take() -> (commands: [[String]], dropped: Bool) {
        lock.lock()
        while queue.isEmpty { lock.wait() }
        defer {
            queue = []
            dropped = false
            lock.unlock()
        }
        return (queue, dropped)
    }

    /// Puts unsent commands back in front of anything queued since (bounded the same way).
    private func giveBack(_ commands: [[String]], dropped wasDropped: Bool) {
        lock.lock()
        queue = commands + queue
        dropped = dropped || wasDropped
        if queue.count > maxQueued {
            queue.removeFirst(queue.count - maxQueued)
            dropped = true
        }
        lock.unlock()
    }

    private func run() {
        var redis: RedisConnection?
        var fresh = true // a new connection: write every price again first
        var down = false
        while true {
            let (commands, wasDropped) = take()
            do {
                let r: RedisConnection
                if let redis {
                    r = redis
                } else {
                    r = try RedisConnection(target, timeoutMillis: 1000)
                    redis = r
                }
                var all: [[String]] = []
                if fresh {
                    all += prices.entries.map {
                        EventLog.price(stockId: $0.stockId, name: $0.name, cents: $0.priceCents)
                    }
                }
                if wasDropped { all.append(EventLog.gap) }
                all += commands
                _ = try r.pipeline(all)
                fresh = false
                if down { logger.info("event publisher reconnected to Redis") }
                down = false
            } catch {
                if !down { logger.warning("event publisher lost Redis; events wait in memory", error: error) }
                down = true
                redis = nil
                fresh = true
                giveBack(commands, dropped: wasDropped)
                usleep(200_000)
            }
        }
    }
}
