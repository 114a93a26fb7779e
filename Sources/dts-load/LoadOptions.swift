import Foundation

struct LoadOptions: Sendable {
    var host = "127.0.0.1"
    var port = 80
    var usersFile = ""
    var users: Int? = nil
    var rampUpSeconds = 45.0
    var pauseScale = 1.0
    var timeoutMillis = 80_000
    var threads = 1
    var skipSetup = false
    var googleId: String? = nil
    var appleId: String? = nil
    var stockIdsFile: String? = nil
    var progressSeconds = 5.0
    var reportPath: String? = nil

    static let usage = """
    usage: dts-load --users-file UserCreds_N.csv [options]
    Plays the TestRun3 (v3) JMeter plan: InitialSetup once, then one virtual user per CSV row
    (header skipped) running UserThreadTest's ten steps with its pauses and assertions, over
    keep-alive connections on an epoll event loop. Prints a JMeter-dashboard-like table.
      --url URL            base URL (default http://localhost:80)
      --users N            only the first N rows (default: all)
      --ramp-up S          seconds over which the users start (default 45, as the plan)
      --pause-scale F      multiply the plan's pauses (500 ms, 5000 ms before step 20); 0 = none (default 1)
      --timeout-ms MS      per-request timeout (default 80000, as TestRun3 v2)
      --threads N          event-loop threads (default 1)
      --skip-setup         do not run InitialSetup; needs --google-id/--apple-id or --stock-ids-file
      --google-id ID --apple-id ID
      --stock-ids-file F   written after InitialSetup (googleStockId,appleStockId header + ids), read with --skip-setup
      --progress S         seconds between progress lines on stderr (default 5; 0 = off)
      --report FILE.html   also write an HTML report (throughput, latency percentiles and errors over time)
    """

    static func parse(_ args: [String]) throws -> LoadOptions {
        var o = LoadOptions()
        var i = 0
        func value() throws -> String {
            i += 1
            guard i < args.count else { throw LoadError("\(args[i - 1]) needs a value") }
            return args[i]
        }
        while i < args.count {
            switch args[i] {
            case "--url":
                let text = try value()
                guard let (h, p) = parseURL(text) else { throw LoadError("bad --url \(text) (http://host:port)") }
                o.host = h; o.port = p
            case "--users-file": o.usersFile = try value()
            case "--users": o.users = Int(try value())
            case "--ramp-up": o.rampUpSeconds = Double(try value()) ?? 45
            case "--pause-scale": o.pauseScale = Double(try value()) ?? 1
            case "--timeout-ms": o.timeoutMillis = Int(try value()) ?? 80_000
            case "--threads": o.threads = max(1, Int(try value()) ?? 1)
            case "--skip-setup": o.skipSetup = true
            case "--google-id": o.googleId = try value()
            case "--apple-id": o.appleId = try value()
            case "--stock-ids-file": o.stockIdsFile = try value()
            case "--progress": o.progressSeconds = Double(try value()) ?? 5
            case "--report": o.reportPath = try value()
            case "-h", "--help": print(usage); exit(0)
            default: throw LoadError("unknown option \(args[i])\n\(usage)")
            }
            i += 1
        }
        guard !o.usersFile.isEmpty else { throw LoadError("--users-file is required\n\(usage)") }
        return o
    }

    static func parseURL(_ text: String) -> (String, Int)? {
        var rest = Substring(text)
        if rest.hasPrefix("http://") { rest = rest.dropFirst(7) } else if rest.contains("://") { return nil }
        let hostPort = rest.prefix { $0 != "/" }
        var host = String(hostPort), port = 80
        if let colon = hostPort.lastIndex(of: ":") {
            guard let p = Int(hostPort[hostPort.index(after: colon)...]), p > 0, p < 65536 else { return nil }
            host = String(hostPort[..<colon]); port = p
        }
        if host == "localhost" { host = "127.0.0.1" }
        return host.isEmpty ? nil : (host, port)
    }
}

struct LoadError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// One row of a UserCreds_*.csv file: `username,password,name`, header row skipped (as the plan's
/// CSV Data Set with ignoreFirstLine), CRLF or LF.
struct UserCreds: Sendable {
    let username: String
    let password: String
    let name: String

    static func load(_ path: String, limit: Int?) throws -> [UserCreds] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw LoadError("cannot read \(path)") }
        var rows: [UserCreds] = []
        for line in text.split(whereSeparator: \.isNewline).dropFirst() {
            let f = line.split(separator: ",", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            guard f.count == 3, !f[0].isEmpty else { continue }
            rows.append(UserCreds(username: f[0], password: f[1], name: f[2]))
            if let limit, rows.count >= limit { break }
        }
        return rows
    }
}
