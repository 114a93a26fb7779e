import ServiceCore
import Synchronization

/// One instance of an upstream service, with its breaker and counters.
public final class UpstreamInstance: Sendable {
    let endpoint: Endpoint
    let breaker: CircuitBreaker
    let inFlight = Atomic<Int>(0)
    let requests = Atomic<Int>(0)
    let failures = Atomic<Int>(0)

    init(endpoint: Endpoint, breaker: CircuitBreaker) {
        self.endpoint = endpoint
        self.breaker = breaker
    }
}

/// The instances of one service. Picks the least busy instance whose breaker lets traffic
/// through, starting the scan at a rotating offset so ties spread round-robin.
public final class UpstreamPool: Sendable {
    let group: UpstreamGroup
    let instances: [UpstreamInstance]
    private let cursor = Atomic<Int>(0)

    public init(group: UpstreamGroup, endpoints: [Endpoint], makeBreaker: () -> CircuitBreaker) {
        self.group = group
        self.instances = endpoints.map { UpstreamInstance(endpoint: $0, breaker: makeBreaker()) }
    }

    /// Claims an instance not in `excluded` (indices already tried for this request); nil when
    /// every remaining instance's breaker is open (or a half-open probe is already out).
    func acquire(excluding excluded: Set<Int>) -> Int? {
        let n = instances.count
        guard n > 0 else { return nil }
        // One instance (the usual deployment): nothing to rank.
        if n == 1 { return !excluded.contains(0) && instances[0].breaker.tryAcquire() ? 0 : nil }
        let start = Int(UInt(bitPattern: cursor.add(1, ordering: .relaxed).newValue) % UInt(n))
        var order: [(index: Int, busy: Int)] = []
        order.reserveCapacity(n)
        for i in 0..<n {
            let idx = (start + i) % n
            guard !excluded.contains(idx), instances[idx].breaker.isAvailable else { continue }
            order.append((idx, instances[idx].inFlight.load(ordering: .relaxed)))
        }
        // Stable sort keeps the rotation order among equally busy instances.
        for candidate in order.enumerated().sorted(by: { ($0.element.busy, $0.offset) < ($1.element.busy, $1.offset) })
        where instances[candidate.element.index].breaker.tryAcquire() {
            return candidate.element.index
        }
        return nil
    }

    public func statusJSON() -> JSON {
        .array(
            instances.map { inst in
                let s = inst.breaker.snapshot
                return .object([
                    ("endpoint", .string(inst.endpoint.description)),
                    ("breaker", .string(s.state.rawValue)),
                    ("consecutive_failures", .int(s.consecutiveFailures)),
                    ("times_opened", .int(s.timesOpened)),
                    ("in_flight", .int(inst.inFlight.load(ordering: .relaxed))),
                    ("requests", .int(inst.requests.load(ordering: .relaxed))),
                    ("failures", .int(inst.failures.load(ordering: .relaxed))),
                ])
            })
    }
}
