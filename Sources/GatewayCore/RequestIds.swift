import ServiceCore
import Synchronization

/// Request ids unique across gateway processes: a random per-process prefix plus a counter
/// (cheaper than random bytes per request).
public final class RequestIds: Sendable {
    public init() {}

    private let prefix = Crypto.randomBytes(6).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    private let counter = Atomic<UInt64>(0)

    public func next() -> String {
        "\(prefix)-\(counter.add(1, ordering: .relaxed).newValue)"
    }
}
