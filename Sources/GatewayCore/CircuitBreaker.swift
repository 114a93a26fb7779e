import ServiceCore
import Synchronization

/// Per-upstream-instance breaker. Closed: requests flow and consecutive failures are counted;
/// `failureThreshold` in a row open it. Open: no requests for `openNanos`. Then half-open: exactly
/// one probe goes through; its success closes the breaker, its failure opens it again.
public final class CircuitBreaker: Sendable {
    public enum State: String, Sendable {
        case closed, open
        case halfOpen = "half_open"
    }

    public struct Snapshot: Sendable {
        public let state: State
        public let consecutiveFailures: Int
        public let timesOpened: Int
    }

    private struct Inner {
        var state: State = .closed
        var consecutiveFailures = 0
        var openUntil: UInt64 = 0
        var probeInFlight = false
        var timesOpened = 0
    }

    let failureThreshold: Int
    let openNanos: UInt64
    private let inner = Mutex(Inner())
    private let now: @Sendable () -> UInt64

    public init(
        failureThreshold: Int, openMillis: Int, now: @escaping @Sendable () -> UInt64 = { Clock.monotonicNanos() }
    ) {
        self.failureThreshold = max(1, failureThreshold)
        self.openNanos = UInt64(max(0, openMillis)) * 1_000_000
        self.now = now
    }

    /// Whether a request may go to this instance now. A true answer in half-open state makes the
    /// caller the probe: it must report `success`, `failure` or `neutral` afterwards.
    func tryAcquire() -> Bool {
        let t = now()
        return inner.withLock { s in
            switch s.state {
            case .closed:
                return true
            case .open:
                guard t >= s.openUntil else { return false }
                s.state = .halfOpen
                s.probeInFlight = true
                return true
            case .halfOpen:
                guard !s.probeInFlight else { return false }
                s.probeInFlight = true
                return true
            }
        }
    }

    /// Would `tryAcquire` say yes (without claiming a probe)? Used to rank candidates.
    var isAvailable: Bool {
        let t = now()
        return inner.withLock { s in
            switch s.state {
            case .closed: return true
            case .open: return t >= s.openUntil
            case .halfOpen: return !s.probeInFlight
            }
        }
    }

    /// Returns true when this call changed the state (for logging).
    @discardableResult
    func recordSuccess() -> Bool {
        inner.withLock { s in
            let changed = s.state != .closed
            s.state = .closed
            s.consecutiveFailures = 0
            s.probeInFlight = false
            return changed
        }
    }

    /// Returns true when this failure opened the breaker.
    @discardableResult
    func recordFailure() -> Bool {
        let t = now()
        return inner.withLock { s in
            s.consecutiveFailures += 1
            switch s.state {
            case .halfOpen:
                s.probeInFlight = false
                s.state = .open
                s.openUntil = t + openNanos
                s.timesOpened += 1
                return true
            case .closed where s.consecutiveFailures >= failureThreshold:
                s.state = .open
                s.openUntil = t + openNanos
                s.timesOpened += 1
                return true
            default:
                return false
            }
        }
    }

    /// An answer that says nothing about the instance's health (e.g. its own 503 "busy"): the
    /// instance is alive, so a probe counts as success, but a closed breaker's count is untouched.
    func recordNeutral() {
        inner.withLock { s in
            if s.state == .halfOpen {
                s.state = .closed
                s.consecutiveFailures = 0
                s.probeInFlight = false
            }
        }
    }

    /// The request holding the half-open probe ended without an answer (its client left): let
    /// the next request probe instead, so the breaker is never stuck half-open.
    func abandonProbe() {
        inner.withLock { s in
            if s.state == .halfOpen { s.probeInFlight = false }
        }
    }

    public var snapshot: Snapshot {
        inner.withLock {
            Snapshot(state: $0.state, consecutiveFailures: $0.consecutiveFailures, timesOpened: $0.timesOpened)
        }
    }
}
