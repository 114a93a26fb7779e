import Glibc

/// Configuration from environment variables with local defaults (see README for the full list).
public struct ServiceConfig: Sendable {
    public let name: String
    public let values: [String: String]

    public init(name: String, environment: [String: String] = ProcessEnvironment.variables) {
        self.name = name
        self.values = environment
    }

    public func string(_ key: String, default def: String) -> String {
        if let v = values[key], !v.isEmpty { return v }
        return def
    }

    public func int(_ key: String, default def: Int) -> Int {
        values[key].flatMap { Int($0.trimmingASCIIWhitespace()) } ?? def
    }

    public func bool(_ key: String, default def: Bool) -> Bool {
        guard let v = values[key]?.lowercased() else { return def }
        return ["1", "true", "yes", "on"].contains(v)
    }

    /// Comma-separated `host:port` list.
    public func endpoints(_ key: String, default def: String) -> [Endpoint] {
        string(key, default: def).split(separator: ",").compactMap { Endpoint(String($0)) }
    }

    public var host: String { string("DT_HOST", default: "127.0.0.1") }
    public var cores: Int { max(1, ProcessEnvironment.activeProcessorCount) }
    /// A secret's value, nil when unset or empty (secrets have no defaults).
    public func secret(_ key: String) -> String? {
        guard let v = values[key], !v.isEmpty else { return nil }
        return v
    }

    /// DT_REDIS (host:port) with DT_REDIS_PASSWORD for AUTH.
    public var redis: RedisTarget {
        let endpoint =
            Endpoint(string("DT_REDIS", default: "127.0.0.1:6379")) ?? Endpoint(host: "127.0.0.1", port: 6379)
        return RedisTarget(endpoint, password: secret("DT_REDIS_PASSWORD"))
    }

    /// Signs calls to other services (DT_INTERNAL_KEY); nil without the key.
    public var internalProof: GatewayProof? { secret("DT_INTERNAL_KEY").flatMap { GatewayProof(key: $0) } }

    /// A libpq conninfo value: single-quoted, with backslash and quote escaped.
    static func conninfoQuoted(_ value: String) -> String {
        "'" + value.replacing("\\", with: "\\\\").replacing("'", with: "\\'") + "'"
    }
}

public struct Endpoint: Sendable, Hashable, CustomStringConvertible {
    public let host: String
    public let port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port`, or `unix:/path` (a Unix-domain socket on this machine: `host` is the
    /// path, `port` 0; the connect helpers go there when the host is a path); nil when malformed.
    public init?(_ text: String) {
        let t = text.trimmingASCIIWhitespace()
        if t.hasPrefix("unix:/") {
            host = String(t.dropFirst(5))
            port = 0
            return
        }
        guard let colon = t.lastIndex(of: ":"), let p = Int(t[t.index(after: colon)...]), p > 0, p < 65536 else {
            return nil
        }
        host = String(t[..<colon])
        port = p
    }

    /// A Unix-domain socket (`unix:/path`), not a TCP address.
    public var isUnixSocket: Bool { host.hasPrefix("/") }

    public var description: String { isUnixSocket ? "unix:" + host : "\(host):\(port)" }
}
