/// Per-thread state handed to every handler. Each worker (and each event loop, for inline handlers)
/// owns one, so the connections it holds (PostgreSQL, Redis) need no locks on the hot path.
public final class WorkerContext {
    public let config: ServiceConfig
    public let index: Int
    private var storage: [ObjectIdentifier: AnyObject] = [:]

    public init(config: ServiceConfig, index: Int) {
        self.config = config
        self.index = index
    }

    /// This thread's instance of `T`, made on first use.
    public func local<T: AnyObject>(_ type: T.Type = T.self, make: () throws -> T) rethrows -> T {
        if let existing = storage[ObjectIdentifier(type)] as? T { return existing }
        let made = try make()
        storage[ObjectIdentifier(type)] = made
        return made
    }

    /// Drops this thread's instance of `T` (e.g. a broken connection) so the next `local` makes a new one.
    public func discard<T: AnyObject>(_ type: T.Type) {
        storage[ObjectIdentifier(type)] = nil
    }

    /// Drops every `ReleasedWhenIdle` instance (the worker pool calls this once the whole pool has
    /// been idle for a while); the next use makes a new one.
    public func releaseIdle() {
        storage = storage.filter { !($0.value is ReleasedWhenIdle) }
    }
}

/// Per-thread state worth giving back when a service goes quiet: a connection (its socket, its
/// buffers, and on PostgreSQL's side a whole backend process) that is cheap to open again.
public protocol ReleasedWhenIdle: AnyObject {}
