import ServiceCore

/// The fuzz targets: the HTTP request-head parser, the JSON parser and the Redis reply (RESP)
/// parser of the event-loop Redis client. Each checks
/// invariants on top of "does not crash": a failed `precondition` is a finding.
enum FuzzTargets {
    static func run(_ name: String, _ bytes: UnsafeBufferPointer<UInt8>) {
        switch name {
        case "http": http(bytes)
        case "json": json(bytes)
        case "resp": resp(bytes)
        default: fatalError("unknown fuzz target \(name): use http, json or resp")
        }
    }

    /// Small limits so that the 414/431/413 paths are reachable with short inputs.
    static let limits = HTTPLimits(maxHeaderBytes: 2048, maxBodyBytes: 4096)

    static func http(_ bytes: UnsafeBufferPointer<UInt8>) {
        switch HTTPParser.parseHead(bytes, limits: limits) {
        case .incomplete:
            break
        case .blank(let n):
            precondition(n > 0 && n <= bytes.count, "blank run out of range")
        case .failure(let status, let message):
            precondition((400..<600).contains(status) && !message.isEmpty, "failure without a status or message")
        case .head(let request, let headLength, let bodyLength):
            precondition(
                headLength <= bytes.count && headLength <= limits.maxHeaderBytes + 4, "head length out of range")
            precondition(bodyLength >= 0 && bodyLength <= limits.maxBodyBytes, "body length out of range")
            precondition(
                !request.method.isEmpty && (request.path.hasPrefix("/") || request.path == "*"), "bad method or path")
            precondition(request.versionMinor == 0 || request.versionMinor == 1, "bad version")
            // Early rejection must never refuse a prefix of a request that parses in full.
            for cut in [headLength - 1, headLength / 2, 1] where cut > 0 && cut < headLength {
                if case .failure(let status, let message) = HTTPParser.parseHead(
                    UnsafeBufferPointer(rebasing: bytes[..<cut]), limits: limits)
                {
                    preconditionFailure(
                        "prefix of \(cut) bytes refused (\(status) \(message)) though the whole head parses")
                }
            }
            // The accessors handlers use on the parsed request.
            _ = request.wantsKeepAlive
            for h in request.headers { _ = request.header(h.name) }
            for part in request.query.split(separator: "&") {
                _ = request.queryParam(String(part.split(separator: "=").first ?? ""))
            }
        }
    }

    static func resp(_ bytes: UnsafeBufferPointer<UInt8>) {
        let raw = UnsafeRawBufferPointer(bytes)
        guard case .reply(_, let length) = RESP.parse(raw) else { return }
        precondition(length > 0 && length <= bytes.count, "reply length out of range")
        // A reply cut short is incomplete: never a different reply, never garbage.
        for cut in [length - 1, length / 2, 1] where cut > 0 && cut < length {
            precondition(
                RESP.parse(UnsafeRawBufferPointer(rebasing: raw[..<cut])) == .incomplete,
                "prefix of \(cut) bytes not incomplete")
        }
    }

    static func json(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let value = try? JSON.parse(Array(bytes), maxDepth: 32) else { return }
        // Whatever parses must serialize to JSON that parses back to the same value.
        let text = value.serializedBytes()
        guard let again = try? JSON.parse(text, maxDepth: 32) else {
            preconditionFailure("serialized form does not parse: \(String(decoding: text, as: UTF8.self))")
        }
        precondition(again == value, "round trip changed the value")
        _ = value.int64Value
        _ = value.centsValue
    }
}
