/// Incremental HTTP/1.1 response parsing for the load client (Content-Length, chunked, or
/// close-delimited bodies).
enum WireResponse {
    case incomplete
    case malformed(String)
    case complete(status: Int, body: [UInt8], keepAlive: Bool)

    static func parse(_ buf: [UInt8], eof: Bool) -> WireResponse {
        guard let headEnd = findHeadEnd(buf) else { return eof && !buf.isEmpty ? .malformed("truncated head") : .incomplete }
        let head = String(decoding: buf[0..<headEnd], as: UTF8.self)
        let lines = head.split(separator: "\r\n", omittingEmptySubsequences: true)
        guard let statusLine = lines.first else { return .malformed("no status line") }
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
            return .malformed("bad status line \(statusLine.prefix(60))")
        }
        var keepAlive = parts[0] == "HTTP/1.1"
        var length: Int? = nil
        var chunked = false
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces).lowercased()
            switch name {
            case "content-length": length = Int(value)
            case "transfer-encoding": chunked = value.contains("chunked")
            case "connection":
                if value.contains("close") { keepAlive = false } else if value.contains("keep-alive") { keepAlive = true }
            default: break
            }
        }
        let bodyStart = headEnd + 4
        if status == 204 || status == 304 || (100..<200).contains(status) {
            return .complete(status: status, body: [], keepAlive: keepAlive)
        }
        if chunked {
            var pos = bodyStart
            var body: [UInt8] = []
            while true {
                guard let lineEnd = findCRLF(buf, from: pos) else { return eof ? .malformed("truncated chunk") : .incomplete }
                let sizeText = String(decoding: buf[pos..<lineEnd], as: UTF8.self).split(separator: ";").first ?? ""
                guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else { return .malformed("bad chunk size") }
                pos = lineEnd + 2
                if size == 0 {
                    // Skip trailers up to the empty line.
                    while true {
                        guard let end = findCRLF(buf, from: pos) else { return eof ? .malformed("truncated trailer") : .incomplete }
                        if end == pos { return .complete(status: status, body: body, keepAlive: keepAlive) }
                        pos = end + 2
                    }
                }
                guard buf.count >= pos + size + 2 else { return eof ? .malformed("truncated chunk") : .incomplete }
                body.append(contentsOf: buf[pos..<(pos + size)])
                pos += size + 2
            }
        }
        if let length {
            guard buf.count >= bodyStart + length else { return eof ? .malformed("truncated body") : .incomplete }
            return .complete(status: status, body: Array(buf[bodyStart..<(bodyStart + length)]), keepAlive: keepAlive)
        }
        // No length: the body runs to the end of the connection.
        return eof ? .complete(status: status, body: Array(buf[bodyStart...]), keepAlive: false) : .incomplete
    }

    static func findHeadEnd(_ b: [UInt8]) -> Int? {
        guard b.count >= 4 else { return nil }
        for i in 0...(b.count - 4) where b[i] == 13 && b[i + 1] == 10 && b[i + 2] == 13 && b[i + 3] == 10 { return i }
        return nil
    }

    static func findCRLF(_ b: [UInt8], from: Int) -> Int? {
        var i = from
        while i + 1 < b.count {
            if b[i] == 13 && b[i + 1] == 10 { return i }
            i += 1
        }
        return nil
    }
}
