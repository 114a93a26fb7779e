import Synchronization

public struct BulkheadLimits: Sendable, Equatable {
    public let requests: Int
    public let bytes: Int

    public init(requests: Int, bytes: Int) {
        self.requests = requests
        self.bytes = bytes
    }
}

/// Caps what one upstream group may hold in the gateway: requests in flight and the request
/// bytes they carry. A full group answers 503 at once, so a slow or dead service fills only its
/// own compartment and every other route keeps its sockets, memory and latency.
public final class Bulkhead: Sendable {
    public let limits: BulkheadLimits
    private let state = Mutex<(requests: Int, bytes: Int, refused: Int)>((0, 0, 0))

    public init(_ limits: BulkheadLimits) {
        self.limits = limits
    }

    /// Claims room for one request of `bytes`; false (and nothing claimed) when either limit would be passed.
    public func tryEnter(bytes: Int) -> Bool {
        state.withLock { s in
            // One request always fits an empty compartment, however large (bodies are bounded by the server).
            guard s.requests < limits.requests, s.requests == 0 || s.bytes + bytes <= limits.bytes else {
                s.refused += 1
                return false
            }
            s.requests += 1
            s.bytes += bytes
            return true
        }
    }

    public func leave(bytes: Int) {
        state.withLock { s in
            s.requests -= 1
            s.bytes -= bytes
        }
    }

    public var snapshot: (requests: Int, bytes: Int, refused: Int) { state.withLock { $0 } }
}
