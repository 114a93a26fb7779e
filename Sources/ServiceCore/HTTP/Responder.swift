/// The answer channel of one request handled by an async route (`Router.async`): the handler
/// starts work on the event loop (e.g. an upstream socket) and answers later, once, either
/// with a whole response or as a stream. Loop-thread only.
///
/// A stream's body goes straight into the client connection's output buffer; `wantsMore` turns
/// false above `highWater` unsent bytes, and `whenDrained` runs once the client has read it down
/// to `lowWater`, so a slow reader holds a bounded buffer however long the body is.
public final class Responder {
    public let io: LoopIO
    /// The loop's own context (per-loop state through `local`).
    public let context: WorkerContext
    public let isHead: Bool
    unowned let loop: EventLoop
    var conn: Connection?
    let keepAlive: Bool
    let route: MetricsLabel
    let started: UInt64
    private(set) var streaming = false
    var chunked = false
    var http11 = true
    private var drained: (() -> Void)?

    public static let highWater = 256 * 1024
    static let lowWater = 64 * 1024

    /// Runs if the client connection closes before the answer is complete.
    public var onClientGone: (() -> Void)?

    init(
        loop: EventLoop, conn: Connection, keepAlive: Bool, route: MetricsLabel, started: UInt64, isHead: Bool,
        context: WorkerContext
    ) {
        self.loop = loop
        self.io = loop.io
        self.conn = conn
        self.keepAlive = keepAlive
        self.route = route
        self.started = started
        self.isHead = isHead
        self.context = context
    }

    /// Whether the client is still there to answer.
    public var isOpen: Bool { conn != nil }

    /// The client has closed its sending side (or is gone). A half-closed client may still read,
    /// so the loop keeps answering; a long-lived stream's producer may take it as "leaving", since
    /// otherwise only the next write that fails would tell.
    public var inputClosed: Bool { conn?.peerClosed ?? true }

    /// Sends a whole response (a `bodyFile` is streamed from disk) and ends the exchange.
    public func respond(_ response: HTTPResponse) {
        guard let conn, !streaming else {
            response.bodyFile?.discard()
            return
        }
        self.conn = nil
        loop.completeAsync(conn, isHead ? response.forHead() : response, self)
    }

    /// Sends the head of `response` (its body ignored); the body follows through `write`.
    /// `contentLength` nil: unknown length (a long-lived stream), sent chunked, or close-delimited to HTTP/1.0.
    public func startStream(_ response: HTTPResponse, contentLength: Int?) {
        guard let conn, !streaming else { return }
        streaming = true
        loop.beginStream(conn, response, contentLength: contentLength, self)
    }

    /// Appends body bytes; false when the client is gone.
    @discardableResult
    public func write(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let conn, streaming else { return false }
        loop.streamWrite(conn, bytes, self)
        return self.conn != nil
    }

    /// False once the client has `highWater` unsent bytes waiting: pause the producer.
    public var wantsMore: Bool {
        guard let conn else { return false }
        return conn.outbuf.count - conn.outPos < Self.highWater
    }

    /// Runs `body` once the client's unsent bytes fall to `lowWater` (at once if they are there).
    public func whenDrained(_ body: @escaping () -> Void) {
        guard let conn else { return }
        if conn.outbuf.count - conn.outPos <= Self.lowWater {
            body()
            return
        }
        drained = body
    }

    /// Ends a stream: the body is complete.
    public func finish() {
        guard let conn, streaming else { return }
        self.conn = nil
        drained = nil
        loop.endStream(conn, self)
    }

    /// Ends a stream that cannot be completed (the producer failed): the client connection is
    /// closed, since a response cut short must not look complete.
    public func abort() {
        guard let conn else { return }
        self.conn = nil
        drained = nil
        loop.abortAsync(conn)
    }

    // Called by the loop.

    func outputDrained() {
        guard let body = drained, let conn, conn.outbuf.count - conn.outPos <= Self.lowWater else { return }
        drained = nil
        body()
    }

    func clientGone() {
        guard conn != nil else { return }
        conn = nil
        drained = nil
        let gone = onClientGone
        onClientGone = nil
        gone?()
    }
}
