import Dispatch
import Synchronization

/// At most `limit` callers inside `run` at once; the others wait their turn. For CPU-bound work
/// that must not take every core (password hashing): N permits bound its CPU like a pool of N
/// threads would, without handing each job to another thread.
public final class ConcurrencyLimit: Sendable {
    public let limit: Int
    private let permits: DispatchSemaphore
    private let inside = Atomic<Int>(0)
    private let peak = Atomic<Int>(0)

    public init(_ limit: Int) {
        self.limit = max(1, limit)
        permits = DispatchSemaphore(value: self.limit)
    }

    public func run<T>(_ body: () throws -> T) rethrows -> T {
        permits.wait()
        let now = inside.add(1, ordering: .relaxed).newValue
        var seen = peak.load(ordering: .relaxed)
        while now > seen {
            let (exchanged, current) = peak.compareExchange(expected: seen, desired: now, ordering: .relaxed)
            if exchanged { break }
            seen = current
        }
        defer {
            inside.subtract(1, ordering: .relaxed)
            permits.signal()
        }
        return try body()
    }

    /// The most callers ever inside at once (for tests and metrics).
    public var peakConcurrency: Int { peak.load(ordering: .relaxed) }
}
