import ServiceCore

/// The load client's view of a response in its buffer (ServiceCore's `BufferedResponse`).
enum WireResponse {
    case incomplete
    case malformed(String)
    case complete(status: Int, body: [UInt8], keepAlive: Bool)

    static func parse(_ buf: [UInt8], eof: Bool) -> WireResponse {
        switch buf.withUnsafeBytes({ BufferedResponse.parse($0, eof: eof) }) {
        case .incomplete: return .incomplete
        case .malformed(let why): return .malformed(why)
        case .complete(let head, let body, _):
            return .complete(
                status: head.status, body: body, keepAlive: !head.closes && head.framing(forHead: false) != .untilClose)
        }
    }
}
