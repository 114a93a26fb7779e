import CShim

/// Time sources. Handlers that apply time rules (60 s expiry, token lifetimes) take a `Clock` so
/// tests can move time by hand.
public enum Clock {
    public static func monotonicNanos() -> UInt64 { cshim_monotonic_ns() }
    public static func wallMillis() -> Int64 { cshim_wall_ms() }
}

/// Injectable wall clock in milliseconds since the epoch.
public protocol WallClock: Sendable {
    func nowMillis() -> Int64
}

public struct SystemClock: WallClock {
    public init() {}
    public func nowMillis() -> Int64 { Clock.wallMillis() }
}
