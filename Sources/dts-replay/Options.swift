import Foundation
import ServiceCore

/// `http://host:port/prefix` split into what HTTPClient needs.
struct BaseURL: Sendable, CustomStringConvertible {
    let endpoint: Endpoint
    let pathPrefix: String

    init?(_ text: String) {
        var rest = Substring(text)
        if rest.hasPrefix("http://") { rest = rest.dropFirst(7) } else if rest.contains("://") { return nil }
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let hostPort = rest[..<slash]
        var prefix = String(rest[slash...])
        while prefix.hasSuffix("/") { prefix.removeLast() }
        var host = String(hostPort)
        var port = 80
        if let colon = hostPort.lastIndex(of: ":") {
            guard let p = Int(hostPort[hostPort.index(after: colon)...]), p > 0, p < 65536 else { return nil }
            host = String(hostPort[..<colon])
            port = p
        }
        guard !host.isEmpty else { return nil }
        // "localhost" may resolve to ::1 first while the stack listens on 127.0.0.1.
        if host == "localhost" { host = "127.0.0.1" }
        endpoint = Endpoint(host: host, port: port)
        pathPrefix = prefix
    }

    func path(_ p: String) -> String { pathPrefix + p }
    var description: String { "http://\(endpoint)\(pathPrefix)" }
}

/// What one replay does (from `ReplayCommand.Run`, the command line).
struct ReplayOptions: Sendable {
    var workloadPath = ""
    var url = BaseURL("http://127.0.0.1:80")!
    var concurrency = 100
    var passwordSalt = "dts-replay"
    var adminUser = "admin"
    var adminPassword: String? = nil
    var outDir = "."
    var statsURL: BaseURL? = BaseURL("http://127.0.0.1:8400")
    var quoteURL: BaseURL? = BaseURL("http://127.0.0.1:8500")
    var timeoutMillis = 60_000
    var remapSalt: String? = nil
    var summaryJSONPath: String? = nil
    var reportPath: String? = nil
    var progress: Bool? = nil // nil: a bar when stderr is a TTY, periodic lines otherwise
    var abortAfter = 1000
    var dryRun = false
    var dumpURL: BaseURL? = nil
    /// Signs the requests that go straight to a service (--dump-url, --stats-url, --quote-url).
    var internalProof: GatewayProof? = nil

    /// Fills in the secrets the command line left out: the environment, else STATE_DIR's files.
    mutating func resolveSecrets(_ environment: [String: String]) {
        if adminPassword == nil {
            adminPassword = Self.secret("DT_ADMIN_PASSWORD", stateFile: "admin-password", environment)
        }
        internalProof = Self.secret("DT_INTERNAL_KEY", stateFile: "internal-key", environment).flatMap {
            GatewayProof(key: $0)
        }
    }

    /// A secret from the environment, else from the file scripts/up keeps in STATE_DIR.
    private static func secret(_ key: String, stateFile: String, _ environment: [String: String]) -> String? {
        if let v = environment[key], !v.isEmpty { return v }
        guard let dir = environment["STATE_DIR"], let data = FileManager.default.contents(atPath: dir + "/" + stateFile)
        else { return nil }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }
}
