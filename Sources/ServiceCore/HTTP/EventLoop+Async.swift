import CShim

/// The loop's side of async routes (`Responder`) and of watched descriptors (`LoopIO`).
extension EventLoop {
    // MARK: answers

    func completeAsync(_ conn: Connection, _ response: HTTPResponse, _ responder: Responder) {
        guard conn.responder === responder else {
            response.bodyFile?.discard()
            return
        }
        conn.inFlight = false
        conn.responder = nil
        respond(
            conn, response, keepAlive: responder.keepAlive && !isDraining, route: responder.route,
            started: responder.started)
        resume(conn)
    }

    func beginStream(_ conn: Connection, _ head: HTTPResponse, contentLength: Int?, _ responder: Responder) {
        guard conn.responder === responder else { return }
        conn.inFlight = false
        conn.streaming = true
        var head = head
        head.body = []
        head.bodyFile = nil
        // Unknown length: chunked to an HTTP/1.1 client, else the end of the body is the close.
        let chunked = contentLength == nil && responder.http11 && !responder.isHead
        responder.chunked = chunked
        var keep = responder.keepAlive && !isDraining && !head.closesConnection
        if contentLength == nil && !chunked { keep = false }
        head.serializeHead(
            into: &conn.outbuf, contentLength: responder.isHead ? 0 : contentLength, chunked: chunked,
            keepAlive: keep, date: dateLine)
        if !keep { conn.closeAfterWrite = true }
        server.metrics.record(
            shard: index, route: responder.route, status: head.status,
            seconds: Double(Clock.monotonicNanos() &- responder.started) / 1e9)
        if responder.isHead {
            endStream(conn, responder)
            return
        }
        if !dispatching { flush(conn) }
    }

    func streamWrite(_ conn: Connection, _ bytes: UnsafeRawBufferPointer, _ responder: Responder) {
        guard conn.responder === responder, bytes.count > 0 else { return }
        if conn.outPos == conn.outbuf.count {
            conn.outbuf.removeAll(keepingCapacity: true)
            conn.outPos = 0
        } else if conn.outPos > 64 * 1024 {
            conn.outbuf.removeFirst(conn.outPos)
            conn.outPos = 0
        }
        if responder.chunked {
            conn.outbuf.append(contentsOf: String(bytes.count, radix: 16).utf8)
            conn.outbuf.append(contentsOf: [13, 10])
            conn.outbuf.append(contentsOf: bytes)
            conn.outbuf.append(contentsOf: [13, 10])
        } else {
            conn.outbuf.append(contentsOf: bytes)
        }
        conn.lastActive = Clock.monotonicNanos() / 1_000_000
        flush(conn)
    }

    func endStream(_ conn: Connection, _ responder: Responder) {
        guard conn.responder === responder else { return }
        if responder.chunked { conn.outbuf.append(contentsOf: "0\r\n\r\n".utf8) }
        conn.streaming = false
        conn.responder = nil
        resume(conn)
    }

    func abortAsync(_ conn: Connection) {
        conn.responder = nil
        conn.streaming = false
        conn.inFlight = false
        closeConnection(conn)
    }

    /// After an answer: serve requests pipelined behind it, then write (unless a dispatch is
    /// under way on this connection, which does both itself).
    private func resume(_ conn: Connection) {
        if dispatching { return }
        processInput(conn)
    }

    // MARK: watched descriptors

    func watch(_ fd: Int32, _ events: IOEvents, _ watcher: FDWatcher) {
        let id = nextId
        nextId += 1
        watchers[fd] = (id, events, watcher)
        _ = cshim_epoll_add(epfd, fd, events.rawValue, (id << 32) | UInt64(UInt32(bitPattern: fd)))
    }

    func changeWatch(_ fd: Int32, _ events: IOEvents) {
        guard let w = watchers[fd], w.events != events else { return }
        watchers[fd] = (w.id, events, w.watcher)
        _ = cshim_epoll_mod(epfd, fd, events.rawValue, (w.id << 32) | UInt64(UInt32(bitPattern: fd)))
    }

    func reassignWatch(_ fd: Int32, _ watcher: FDWatcher) {
        guard let w = watchers[fd] else { return }
        watchers[fd] = (w.id, w.events, watcher)
    }

    func unwatch(_ fd: Int32) {
        guard watchers.removeValue(forKey: fd) != nil else { return }
        _ = cshim_epoll_del(epfd, fd)
    }
}
