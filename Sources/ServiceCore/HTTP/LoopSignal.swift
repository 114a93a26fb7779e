import CShim

/// Wakes one event loop from another thread: `signal()` may be called from anywhere (e.g. the
/// matching engine after a commit) and `body` then runs on the loop's own thread. Signals sent
/// while the loop is busy coalesce into one run (an eventfd counter), so a burst costs one wake.
public final class LoopSignal: FDWatcher, @unchecked Sendable {
    // Only `fd` is touched off the loop thread (an eventfd write is thread-safe).
    private let fd: Int32
    private let body: () -> Void

    /// Made on the loop's thread; lives as long as the loop (one per per-loop registry).
    public init?(_ io: LoopIO, _ body: @escaping () -> Void) {
        let fd = cshim_eventfd()
        guard fd >= 0 else { return nil }
        self.fd = fd
        self.body = body
        io.watch(fd, .readable, self)
    }

    /// Any thread: run `body` on the loop soon.
    public func signal() { _ = cshim_eventfd_signal(fd) }

    public func ioEvent(_ events: IOEvents) {
        _ = cshim_eventfd_drain(fd)
        body()
    }
}
