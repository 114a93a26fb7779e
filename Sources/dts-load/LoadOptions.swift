import Foundation

/// What one run does (from `LoadCommand`, the command line).
struct LoadOptions: Sendable {
    /// Local addresses the users connect from, in turn (empty: the kernel's choice).
    var sourceAddresses: [in_addr] = []
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

    /// "a,b,c" as IPv4 addresses; nil if any is not one (or the list is empty).
    static func parseSources(_ text: String) -> [in_addr]? {
        let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard !parts.isEmpty else { return nil }
        var out: [in_addr] = []
        for part in parts {
            var a = in_addr()
            guard inet_pton(AF_INET, part, &a) == 1 else { return nil }
            out.append(a)
        }
        return out
    }

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
            if let limit, rows.count >= limit { break } // before appending: --users 0 means none
            let f = line.split(separator: ",", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            guard f.count == 3, !f[0].isEmpty else { continue }
            rows.append(UserCreds(username: f[0], password: f[1], name: f[2]))
        }
        return rows
    }
}
