/// Incremental decoder of a chunked message body (RFC 9112 §7.1): feed it bytes as they arrive,
/// it passes on the data and says when the body (trailers included) is over.
public struct ChunkedDecoder: Sendable {
    private enum State: Sendable {
        case size
        case data(Int)
        case dataEnd, trailer
    }
    private var state = State.size
    private var line: [UInt8] = []
    public private(set) var finished = false

    public struct Malformed: Error, Sendable {
        public let reason: String
    }

    public init() {}

    /// Consumes `input`, handing body data to `emit`. Returns the bytes used: all of them, unless
    /// the body ended inside `input` (what follows belongs to the next message).
    public mutating func feed(_ input: UnsafeRawBufferPointer, _ emit: (UnsafeRawBufferPointer) -> Void)
        throws(Malformed) -> Int
    {
        var i = 0
        while i < input.count && !finished {
            switch state {
            case .data(let left):
                let take = min(left, input.count - i)
                emit(UnsafeRawBufferPointer(rebasing: input[i..<(i + take)]))
                i += take
                state = left == take ? .dataEnd : .data(left - take)
            case .size, .dataEnd, .trailer:
                let byte = input[i]
                i += 1
                guard byte == 10 else {
                    guard line.count < 4096 else { throw Malformed(reason: "chunk line too long") }
                    line.append(byte)
                    continue
                }
                if line.last == 13 { line.removeLast() }
                try endOfLine()
                line.removeAll(keepingCapacity: true)
            }
        }
        return i
    }

    private mutating func endOfLine() throws(Malformed) {
        switch state {
        case .size:
            let digits = line.prefix { $0 != UInt8(ascii: ";") && $0 != UInt8(ascii: " ") && $0 != 9 }
            guard !digits.isEmpty, digits.count <= 15,
                let size = Int(String(decoding: digits, as: UTF8.self), radix: 16)
            else {
                throw Malformed(reason: "bad chunk size")
            }
            state = size == 0 ? .trailer : .data(size)
        case .dataEnd:
            guard line.isEmpty else { throw Malformed(reason: "chunk data longer than its size") }
            state = .size
        case .trailer:
            if line.isEmpty { finished = true }
        case .data:
            break
        }
    }
}

/// A whole response in a buffer (head and body), for clients that collect answers in memory:
/// Content-Length, chunked and close-delimited bodies.
public enum BufferedResponse {
    case incomplete
    case malformed(String)
    /// `consumed`: bytes of `buffer` the response took.
    case complete(head: ResponseHead, body: [UInt8], consumed: Int)

    /// `eof`: the peer has closed, so a close-delimited body is complete and anything else is cut short.
    public static func parse(_ buffer: UnsafeRawBufferPointer, eof: Bool, forHead: Bool = false) -> BufferedResponse {
        let head: ResponseHead
        switch ResponseHead.parse(buffer) {
        case .incomplete: return eof && !buffer.isEmpty ? .malformed("truncated head") : .incomplete
        case .invalid(let why): return .malformed(why)
        case .head(let h): head = h
        }
        let rest = UnsafeRawBufferPointer(rebasing: buffer[head.length...])
        switch head.framing(forHead: forHead) {
        case .none:
            return .complete(head: head, body: [], consumed: head.length)
        case .length(let n):
            guard rest.count >= n else { return eof ? .malformed("truncated body") : .incomplete }
            return .complete(head: head, body: Array(rest[0..<n]), consumed: head.length + n)
        case .untilClose:
            return eof ? .complete(head: head, body: Array(rest), consumed: buffer.count) : .incomplete
        case .chunked:
            var decoder = ChunkedDecoder()
            var body: [UInt8] = []
            do {
                let used = try decoder.feed(rest) { body.append(contentsOf: $0) }
                guard decoder.finished else { return eof ? .malformed("truncated chunked body") : .incomplete }
                return .complete(head: head, body: body, consumed: head.length + used)
            } catch {
                return .malformed(error.reason)
            }
        }
    }
}
