/// The Redis wire protocol (RESP2) as bytes: commands encoded as arrays of bulk strings, replies
/// parsed incrementally (a reply split across reads is reported incomplete, never half-consumed).
/// Used by `LoopRedis`, which cannot block on hiredis's synchronous reader.
public enum RESP {
    /// Nesting deeper than this is not something our commands ever get back: refused as garbage.
    static let maxDepth = 8
    /// A bulk string longer than this is refused rather than buffered (our values are tiny).
    static let maxBulkBytes = 64 * 1024 * 1024

    public enum Parse: Equatable, Sendable {
        case incomplete
        /// One reply, and how many bytes it used.
        case reply(RedisReply, length: Int)
        /// Not RESP: the connection cannot be trusted any more.
        case invalid(String)
    }

    /// Appends `*N\r\n$len\r\narg\r\n…` for one command.
    public static func encode(_ args: [[UInt8]], into out: inout [UInt8]) {
        out.append(UInt8(ascii: "*"))
        appendDecimal(args.count, to: &out)
        out.append(contentsOf: crlf)
        for a in args {
            out.append(UInt8(ascii: "$"))
            appendDecimal(a.count, to: &out)
            out.append(contentsOf: crlf)
            out.append(contentsOf: a)
            out.append(contentsOf: crlf)
        }
    }

    /// Parses the reply starting at `buf[0]`.
    public static func parse(_ buf: UnsafeRawBufferPointer) -> Parse {
        var pos = 0
        switch reply(buf, &pos, depth: 0) {
        case .success(let r?): return .reply(r, length: pos)
        case .success(nil): return .incomplete
        case .failure(let e): return .invalid(e.message)
        }
    }

    private static let crlf: [UInt8] = [13, 10]

    /// nil: more bytes needed. Advances `pos` only past a whole reply.
    private static func reply(_ b: UnsafeRawBufferPointer, _ pos: inout Int, depth: Int) -> Result<
        RedisReply?, RedisError
    > {
        guard depth <= maxDepth else { return .failure(RedisError(message: "reply nested too deeply")) }
        guard pos < b.count else { return .success(nil) }
        let kind = b[pos]
        guard let end = lineEnd(b, from: pos + 1) else {
            // A line with no CRLF yet; but a type byte we do not know is garbage at once.
            return "+-:$*".utf8.contains(kind) ? .success(nil) : .failure(RedisError(message: "unknown reply type"))
        }
        let line = UnsafeRawBufferPointer(rebasing: b[(pos + 1)..<end])
        switch kind {
        case UInt8(ascii: "+"):
            pos = end + 2
            return .success(.status(String(decoding: line, as: UTF8.self)))
        case UInt8(ascii: "-"):
            pos = end + 2
            return .success(.error(String(decoding: line, as: UTF8.self)))
        case UInt8(ascii: ":"):
            guard let n = integer(line) else { return .failure(RedisError(message: "bad integer reply")) }
            pos = end + 2
            return .success(.integer(n))
        case UInt8(ascii: "$"):
            guard let n = integer(line), n >= -1, n <= maxBulkBytes else {
                return .failure(RedisError(message: "bad bulk length"))
            }
            if n == -1 {
                pos = end + 2
                return .success(.null)
            }
            let start = end + 2
            let stop = start + Int(n)
            guard stop + 2 <= b.count else { return .success(nil) }
            guard b[stop] == 13, b[stop + 1] == 10 else {
                return .failure(RedisError(message: "bulk string not ended by CRLF"))
            }
            pos = stop + 2
            return .success(.string(Array(b[start..<stop])))
        case UInt8(ascii: "*"):
            guard let n = integer(line), n >= -1, n <= 1 << 20 else {
                return .failure(RedisError(message: "bad array length"))
            }
            if n == -1 {
                pos = end + 2
                return .success(.null)
            }
            var p = end + 2
            var items: [RedisReply] = []
            items.reserveCapacity(Int(n))
            for _ in 0..<Int(n) {
                switch reply(b, &p, depth: depth + 1) {
                case .success(let item?): items.append(item)
                case .success(nil): return .success(nil)
                case .failure(let e): return .failure(e)
                }
            }
            pos = p
            return .success(.array(items))
        default:
            return .failure(RedisError(message: "unknown reply type"))
        }
    }

    /// Index of the CR of the first CRLF at or after `from`.
    private static func lineEnd(_ b: UnsafeRawBufferPointer, from: Int) -> Int? {
        var i = from
        while i + 1 < b.count {
            if b[i] == 13 && b[i + 1] == 10 { return i }
            i += 1
        }
        return nil
    }

    /// `-?[0-9]{1,18}`, nothing else.
    private static func integer(_ s: UnsafeRawBufferPointer) -> Int64? {
        var i = 0
        var negative = false
        if s.first == UInt8(ascii: "-") {
            negative = true
            i = 1
        }
        guard i < s.count, s.count - i <= 18 else { return nil }
        var v: Int64 = 0
        while i < s.count {
            let d = s[i]
            guard d >= 48 && d <= 57 else { return nil }
            v = v * 10 + Int64(d - 48)
            i += 1
        }
        return negative ? -v : v
    }
}
