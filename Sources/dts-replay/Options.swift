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
        var host = String(hostPort), port = 80
        if let colon = hostPort.lastIndex(of: ":") {
            guard let p = Int(hostPort[hostPort.index(after: colon)...]), p > 0, p < 65536 else { return nil }
            host = String(hostPort[..<colon]); port = p
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
    var progress: Bool? = nil   // nil: a bar when stderr is a TTY, periodic lines otherwise
    var abortAfter = 1000
    var dryRun = false
    var dumpURL: BaseURL? = nil
    /// Signs the requests that go straight to a service (--dump-url, --stats-url, --quote-url).
    var internalProof: GatewayProof? = nil

    static let usage = """
    usage: dts-replay FILE|DIR|FILE.tar.gz [options]
           dts-replay gen --users N --commands M --seed S --out FILE [--symbols K]
    Replays a classic workload through nginx: one ordered stream per user, users in parallel,
    whole-system DUMPLOG last (as admin). Options:
      --url URL              base URL of nginx (default http://localhost:80)
      --concurrency N        user streams at once (default 100)
      --password-salt S      user passwords are derived from userid + S (default dts-replay)
      --admin-user NAME      (default admin)
      --admin-password P     else env DT_ADMIN_PASSWORD, else $STATE_DIR/admin-password
      --out DIR              where DUMPLOG files are written (default .)
      --stats-url URL        user-utilities base URL for GET /classic-stats (default http://127.0.0.1:8400; 'none' = off)
      --quote-url URL        quote-server base URL for GET /stats (default http://127.0.0.1:8500; 'none' = off)
      --timeout MS           per-request timeout (default 60000)
      --remap-users SALT     replace every userid by a 10-character id derived from SALT (fresh users per run)
      --summary-json FILE    also write the summary as JSON
      --report FILE.html     also write an HTML report (throughput, latency percentiles, errors over time, per command)
      --progress / --no-progress   force the live bar on or off
      --abort-after N        stop after N transport errors (default 1000)
      --dry-run              parse and group the workload, print its shape, send nothing
      --dump-url URL         send the whole-system DUMPLOG straight to this service (user-utilities), with
                             the identity headers the gateway would add for the admin: for dumps larger
                             than the gateway's proxy buffers (64 MiB)
    Requests straight to a service are signed with env DT_INTERNAL_KEY, else $STATE_DIR/internal-key.
    """

    static func parse(_ args: [String], environment: [String: String]) throws -> ReplayOptions {
        var o = ReplayOptions()
        var i = 0
        func value(_ flag: String) throws -> String {
            i += 1
            guard i < args.count else { throw ReplayError.usage("\(flag) needs a value") }
            return args[i]
        }
        func int(_ flag: String) throws -> Int {
            let v = try value(flag)
            guard let n = Int(v), n >= 0 else { throw ReplayError.usage("\(flag): not a number: \(v)") }
            return n
        }
        func url(_ flag: String, optional: Bool) throws -> BaseURL? {
            let v = try value(flag)
            if optional && (v == "none" || v.isEmpty) { return nil }
            guard let u = BaseURL(v) else { throw ReplayError.usage("\(flag): not an http:// URL: \(v)") }
            return u
        }
        while i < args.count {
            let a = args[i]
            switch a {
            case "--url": if let u = try url(a, optional: false) { o.url = u }
            case "--concurrency": o.concurrency = max(1, try int(a))
            case "--password-salt": o.passwordSalt = try value(a)
            case "--admin-user": o.adminUser = try value(a)
            case "--admin-password": o.adminPassword = try value(a)
            case "--out": o.outDir = try value(a)
            case "--stats-url": o.statsURL = try url(a, optional: true)
            case "--quote-url": o.quoteURL = try url(a, optional: true)
            case "--timeout": o.timeoutMillis = max(100, try int(a))
            case "--remap-users": o.remapSalt = try value(a)
            case "--summary-json": o.summaryJSONPath = try value(a)
            case "--report": o.reportPath = try value(a)
            case "--progress": o.progress = true
            case "--no-progress": o.progress = false
            case "--abort-after": o.abortAfter = max(1, try int(a))
            case "--dry-run": o.dryRun = true
            case "--dump-url": o.dumpURL = try url(a, optional: true)
            case "-h", "--help": throw ReplayError.usage(usage)
            default:
                if a.hasPrefix("-") { throw ReplayError.usage("unknown option \(a)\n\(usage)") }
                guard o.workloadPath.isEmpty else { throw ReplayError.usage("one workload at a time (got \(o.workloadPath) and \(a))") }
                o.workloadPath = a
            }
            i += 1
        }
        guard !o.workloadPath.isEmpty else { throw ReplayError.usage(usage) }
        if o.adminPassword == nil {
            o.adminPassword = secret("DT_ADMIN_PASSWORD", stateFile: "admin-password", environment)
        }
        o.internalProof = secret("DT_INTERNAL_KEY", stateFile: "internal-key", environment).flatMap { GatewayProof(key: $0) }
        return o
    }

    /// A secret from the environment, else from the file scripts/up keeps in STATE_DIR.
    private static func secret(_ key: String, stateFile: String, _ environment: [String: String]) -> String? {
        if let v = environment[key], !v.isEmpty { return v }
        guard let dir = environment["STATE_DIR"], let data = FileManager.default.contents(atPath: dir + "/" + stateFile) else { return nil }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }
}
