import Glibc

/// One client socket, owned by a single event loop thread.
final class Connection {
    let fd: Int32
    let id: UInt64
    let remoteAddress: String
    /// Received bytes: `inbuf[readPos..<inCount]` are not consumed yet (`readPos` is where the
    /// next request starts). The socket is read straight into the array, whose own count is
    /// its capacity, so consuming input only moves the two indices.
    var inbuf = [UInt8](repeating: 0, count: 4096)
    var inCount = 0
    var readPos = 0
    /// Encoded responses waiting for the socket; `outPos` bytes of it are already written.
    var outbuf: [UInt8] = []
    var outPos = 0
    /// The header list the parser fills for each request (`HTTPParser.parseHead(_:limits:headers:)`).
    var headers: [(name: String, value: String)] = []
    /// A head parsed while its body is still arriving.
    var pendingHead: (request: HTTPRequest, headLength: Int, bodyLength: Int)?
    /// A request is with the worker pool; later pipelined requests wait so responses stay in order.
    var inFlight = false
    var closeAfterWrite = false
    var peerClosed = false
    /// Monotonic ms of the last socket activity, and of the first byte of an unfinished request (0: none).
    var lastActive: UInt64
    var requestStarted: UInt64 = 0
    /// Event mask currently registered with epoll.
    var registered: UInt32 = 0
    /// A file body being streamed after the bytes in `outbuf`; later pipelined responses wait.
    var file: (fd: Int32, remaining: Int, body: BodyFile)?
    var added = false
    /// The async exchange answering the current request (in flight, or streaming its body).
    var responder: Responder?
    /// A streamed body is being written after the head in `outbuf`; later pipelined responses wait.
    var streaming = false

    init(fd: Int32, id: UInt64, remoteAddress: String, now: UInt64) {
        self.fd = fd
        self.id = id
        self.remoteAddress = remoteAddress
        self.lastActive = now
    }

    var pendingInput: Int { inCount - readPos }
    var hasOutput: Bool { outPos < outbuf.count || file != nil }
    /// A response is still being produced (worker, async handler or stream): the next one waits.
    var busy: Bool { inFlight || streaming }
    var unsent: Int { outbuf.count - outPos }

    /// Drops consumed input so the buffer does not grow with a long keep-alive session.
    func compactInput() {
        if readPos == inCount {
            readPos = 0
            inCount = 0
        } else if readPos > 32 * 1024 {
            shiftInput()
        }
    }

    /// Room for at least `want` more bytes after `inCount` (doubling, so a large body takes
    /// few reads).
    func reserveInput(_ want: Int) {
        if inbuf.count - inCount >= want { return }
        if readPos > 0 { shiftInput() }
        if inbuf.count - inCount < want { inbuf.append(contentsOf: repeatElement(0, count: max(inbuf.count, want))) }
    }

    /// Moves the unconsumed bytes to the front.
    private func shiftInput() {
        let pending = inCount - readPos
        if pending > 0 {
            let from = readPos
            inbuf.withUnsafeMutableBytes { raw in _ = memmove(raw.baseAddress!, raw.baseAddress! + from, pending) }
        }
        readPos = 0
        inCount = pending
    }

    /// Forgets all received input (a timed-out request).
    func dropInput() {
        readPos = 0
        inCount = 0
    }
}
