import Foundation

/// What one run does (from `LoadCommand`, the command line).
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

    static func parseURL(_ text: String) -> (String, Int)? {
        var rest = Substring(text)
        if rest.hasPrefix("http://") { rest = rest.dropFirst(7) } else if rest.contains("://") { return nil }
        let hostPort = rest.prefix { $0 != "/" }
        var host = String(hostPort)
        var port = 80
        if let colon = hostPort.lastIndex(of: ":") {
            guard let p = Int(hostPort[hostPort.index(after: colon)...]), p > 0, p < 65536 else { return nil }
            host = String(hostPort[..<colon])
            port = p
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
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw LoadError("cannot read \(path)")
        }
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
