public struct JSONParseError: Error, Sendable, CustomStringConvertible {
    public let offset: Int
    public let reason: String
    public var description: String { "invalid JSON at byte \(offset): \(reason)" }
}

extension JSON {
    /// Strict RFC 8259 parser with a nesting limit, so hostile input cannot exhaust the stack.
    public static func parse(_ bytes: [UInt8], maxDepth: Int = 64) throws(JSONParseError) -> JSON {
        try bytes.withUnsafeBufferPointer { buf throws(JSONParseError) -> JSON in
            var p = JSONParser(buf: buf, maxDepth: maxDepth)
            p.skipSpace()
            let v = try p.value(depth: 0)
            p.skipSpace()
            guard p.pos == buf.count else { throw p.fail("trailing characters") }
            return v
        }
    }

    public static func parse(_ text: String) throws(JSONParseError) -> JSON { try parse(Array(text.utf8)) }
}

private struct JSONParser {
    let buf: UnsafeBufferPointer<UInt8>
    let maxDepth: Int
    var pos = 0

    init(buf: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        self.buf = buf
        self.maxDepth = maxDepth
    }

    func fail(_ reason: String) -> JSONParseError { JSONParseError(offset: pos, reason: reason) }

    func duplicate(_ key: String, at offset: Int) -> JSONParseError {
        let shown =
            key.unicodeScalars.count <= 64 && key.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7f }
        return JSONParseError(offset: offset, reason: shown ? "duplicate key \"\(key)\"" : "duplicate key")
    }

    mutating func skipSpace() {
        while pos < buf.count, buf[pos] == 0x20 || buf[pos] == 0x0a || buf[pos] == 0x0d || buf[pos] == 0x09 { pos += 1 }
    }

    mutating func literal(_ word: String, _ v: JSON) throws(JSONParseError) -> JSON {
        for b in word.utf8 {
            guard pos < buf.count, buf[pos] == b else { throw fail("unexpected literal") }
            pos += 1
        }
        return v
    }

    mutating func value(depth: Int) throws(JSONParseError) -> JSON {
        guard depth < maxDepth else { throw fail("nesting too deep") }
        guard pos < buf.count else { throw fail("unexpected end") }
        switch buf[pos] {
        case UInt8(ascii: "{"): return try object(depth: depth)
        case UInt8(ascii: "["): return try array(depth: depth)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): return try literal("true", .bool(true))
        case UInt8(ascii: "f"): return try literal("false", .bool(false))
        case UInt8(ascii: "n"): return try literal("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw fail("unexpected character")
        }
    }

    mutating func object(depth: Int) throws(JSONParseError) -> JSON {
        pos += 1
        var pairs: [(String, JSON)] = []
        var keys: Set<String>? // built once an object is large enough for a linear scan to cost
        skipSpace()
        if pos < buf.count, buf[pos] == UInt8(ascii: "}") {
            pos += 1
            return .object(pairs)
        }
        while true {
            skipSpace()
            guard pos < buf.count, buf[pos] == UInt8(ascii: "\"") else { throw fail("expected key") }
            let keyAt = pos
            let key = try string()
            // A repeated key is refused: parsers disagree on which copy wins (JavaScript and
            // Python keep the last), so a validator in front could see another request than ours.
            if pairs.count < 16 {
                guard !pairs.contains(where: { $0.0 == key }) else { throw duplicate(key, at: keyAt) }
            } else {
                if keys == nil { keys = Set(pairs.map(\.0)) }
                guard keys?.insert(key).inserted == true else { throw duplicate(key, at: keyAt) }
            }
            skipSpace()
            guard pos < buf.count, buf[pos] == UInt8(ascii: ":") else { throw fail("expected ':'") }
            pos += 1
            skipSpace()
            pairs.append((key, try value(depth: depth + 1)))
            skipSpace()
            guard pos < buf.count else { throw fail("unexpected end") }
            if buf[pos] == UInt8(ascii: ",") {
                pos += 1
                continue
            }
            if buf[pos] == UInt8(ascii: "}") {
                pos += 1
                return .object(pairs)
            }
            throw fail("expected ',' or '}'")
        }
    }

    mutating func array(depth: Int) throws(JSONParseError) -> JSON {
        pos += 1
        var items: [JSON] = []
        skipSpace()
        if pos < buf.count, buf[pos] == UInt8(ascii: "]") {
            pos += 1
            return .array(items)
        }
        while true {
            skipSpace()
            items.append(try value(depth: depth + 1))
            skipSpace()
            guard pos < buf.count else { throw fail("unexpected end") }
            if buf[pos] == UInt8(ascii: ",") {
                pos += 1
                continue
            }
            if buf[pos] == UInt8(ascii: "]") {
                pos += 1
                return .array(items)
            }
            throw fail("expected ',' or ']'")
        }
    }

    mutating func number() throws(JSONParseError) -> JSON {
        let start = pos
        if buf[pos] == UInt8(ascii: "-") { pos += 1 }
        guard pos < buf.count, isDigit(buf[pos]) else { throw fail("malformed number") }
        if buf[pos] == UInt8(ascii: "0") { pos += 1 } else { while pos < buf.count, isDigit(buf[pos]) { pos += 1 } }
        if pos < buf.count, buf[pos] == UInt8(ascii: ".") {
            pos += 1
            guard pos < buf.count, isDigit(buf[pos]) else { throw fail("malformed fraction") }
            while pos < buf.count, isDigit(buf[pos]) { pos += 1 }
        }
        if pos < buf.count, buf[pos] == UInt8(ascii: "e") || buf[pos] == UInt8(ascii: "E") {
            pos += 1
            if pos < buf.count, buf[pos] == UInt8(ascii: "+") || buf[pos] == UInt8(ascii: "-") { pos += 1 }
            guard pos < buf.count, isDigit(buf[pos]) else { throw fail("malformed exponent") }
            while pos < buf.count, isDigit(buf[pos]) { pos += 1 }
        }
        guard pos - start <= 64 else { throw fail("number too long") }
        return .number(String(decoding: buf[start..<pos], as: UTF8.self))
    }

    func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

    mutating func string() throws(JSONParseError) -> String {
        pos += 1
        var out: [UInt8] = []
        while pos < buf.count {
            let b = buf[pos]
            if b == UInt8(ascii: "\"") {
                pos += 1
                guard let s = String(validating: out, as: UTF8.self) else { throw fail("invalid UTF-8") }
                return s
            }
            if b < 0x20 { throw fail("control character in string") }
            if b == UInt8(ascii: "\\") {
                pos += 1
                guard pos < buf.count else { break }
                switch buf[pos] {
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5c)
                case UInt8(ascii: "/"): out.append(0x2f)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0c)
                case UInt8(ascii: "n"): out.append(0x0a)
                case UInt8(ascii: "r"): out.append(0x0d)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if scalar >= 0xD800 && scalar < 0xDC00 {
                        guard pos + 2 < buf.count, buf[pos + 1] == UInt8(ascii: "\\"), buf[pos + 2] == UInt8(ascii: "u")
                        else {
                            throw fail("lone surrogate")
                        }
                        pos += 2
                        let low = try hex4()
                        guard low >= 0xDC00 && low < 0xE000 else { throw fail("bad surrogate pair") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if scalar >= 0xDC00 && scalar < 0xE000 {
                        throw fail("lone surrogate")
                    }
                    guard let u = Unicode.Scalar(scalar) else { throw fail("bad escape") }
                    out.append(contentsOf: Array(String(Character(u)).utf8))
                default: throw fail("bad escape")
                }
                pos += 1
                continue
            }
            out.append(b)
            pos += 1
        }
        throw fail("unterminated string")
    }

    /// Reads the 4 hex digits after `\u`; leaves `pos` on the last digit.
    mutating func hex4() throws(JSONParseError) -> UInt32 {
        guard pos + 4 < buf.count else { throw fail("short \\u escape") }
        var v: UInt32 = 0
        for i in 1...4 {
            let c = buf[pos + i]
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x61...0x66: d = UInt32(c - 0x61 + 10)
            case 0x41...0x46: d = UInt32(c - 0x41 + 10)
            default: throw fail("bad \\u escape")
            }
            v = v * 16 + d
        }
        pos += 4
        return v
    }
}
