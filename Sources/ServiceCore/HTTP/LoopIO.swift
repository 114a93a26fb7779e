import CShim

/// Readiness reported for a watched descriptor.
public struct IOEvents: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let readable = IOEvents(rawValue: CSHIM_EPOLLIN)
    public static let writable = IOEvents(rawValue: CSHIM_EPOLLOUT)
    /// Error or hang-up; always reported, whatever was asked for.
    public static let failed = IOEvents(rawValue: CSHIM_EPOLLERR | CSHIM_EPOLLHUP)
}

/// Something owning a descriptor on an event loop (e.g. a proxied upstream socket).
/// Called on that loop's thread only.
public protocol FDWatcher: AnyObject {
    func ioEvent(_ events: IOEvents)
}

/// What async handlers may do with the event loop they run on: watch their own descriptors and
/// get a periodic tick for deadlines. Every call must come from the loop's own thread.
public final class LoopIO {
    unowned let loop: EventLoop

    init(loop: EventLoop) { self.loop = loop }

    /// Which loop this is (0-based), e.g. to shard per-loop state.
    public var index: Int { loop.index }

    /// Starts delivering `events` on `fd` to `watcher`.
    public func watch(_ fd: Int32, _ events: IOEvents, _ watcher: FDWatcher) { loop.watch(fd, events, watcher) }
    /// Changes the events asked for on a watched descriptor (no system call when unchanged).
    public func change(_ fd: Int32, _ events: IOEvents) { loop.changeWatch(fd, events) }
    /// Hands a watched descriptor to another watcher without touching epoll.
    public func reassign(_ fd: Int32, to watcher: FDWatcher) { loop.reassignWatch(fd, watcher) }
    /// Stops watching (the caller still owns and closes the descriptor).
    public func unwatch(_ fd: Int32) { loop.unwatch(fd) }
    /// Called after each batch of loop events, e.g. to write what several handlers queued with
    /// one system call.
    public func afterEvents(_ body: @escaping () -> Void) { loop.afterEvents.append(body) }
    /// Called every ~250 ms with the monotonic time in ms, for timeouts.
    public func onTick(_ body: @escaping (UInt64) -> Void) { loop.tickers.append(body) }
    /// Whether the server is draining (SIGTERM): no new keep-alive, finish what is in flight.
    public var draining: Bool { loop.isDraining }
}
