/// The bytes of an HTTP/1.1 request as this codebase's clients send it: request line, `Host`,
/// the given headers, `Content-Length`, body.
public enum RequestWire {
    public static func encode(
        method: String, target: String, host: Endpoint, headers: [(String, String)], body: [UInt8]
    ) -> [UInt8] {
        var wire: [UInt8] = []
        wire.reserveCapacity(256 + body.count)
        let authority = host.isUnixSocket ? "localhost" : "\(host.host):\(host.port)"
        wire.append(contentsOf: "\(method) \(target) HTTP/1.1\r\nHost: \(authority)\r\n".utf8)
        for (k, v) in headers {
            wire.append(contentsOf: k.utf8)
            wire.append(contentsOf: ": ".utf8)
            wire.append(contentsOf: v.utf8)
            wire.append(contentsOf: "\r\n".utf8)
        }
        wire.append(contentsOf: "Content-Length: ".utf8)
        appendDecimal(body.count, to: &wire)
        wire.append(contentsOf: "\r\n\r\n".utf8)
        wire.append(contentsOf: body)
        return wire
    }
}
