import Foundation

/// A DUMPLOG document read back for checking: the six entry types of logfile.xsd, each a flat
/// element with text children. A small reader of its own so the check shares no code with the
/// service that wrote the log.
struct WorkloadLogEntry {
    let kind: String
    var fields: [String: String] = [:]
    /// Place in the document (the log's id order: entries are inserted under the account lock
    /// of their decision, so for one user this is the order the decisions took).
    var position = 0

    var timestamp: Int64 { Int64(fields["timestamp"] ?? "") ?? 0 }
    var txn: Int { Int(fields["transactionNum"] ?? "") ?? 0 }
    var user: String { fields["username"] ?? "" }
    var command: String { fields["command"] ?? "" }
    var symbol: String { fields["stockSymbol"] ?? "" }
    var fundsCents: Int64? { fields["funds"].flatMap(WorkloadMoney.cents) }
    var priceCents: Int64? { fields["price"].flatMap(WorkloadMoney.cents) }
    /// `CODE` of an errorEvent's `CODE: sentence` message.
    var errorCode: String {
        let m = fields["errorMessage"] ?? ""
        return m.firstIndex(of: ":").map { String(m[..<$0]) } ?? m
    }
}

struct WorkloadLogKey: Hashable {
    let user: String
    let txn: Int
}

enum WorkloadLogReader {
    struct Malformed: Error, CustomStringConvertible {
        let description: String
    }

    static func parse(_ bytes: [UInt8]) throws -> [WorkloadLogEntry] {
        var entries: [WorkloadLogEntry] = []
        var i = 0
        var depth = 0
        var current: WorkloadLogEntry? = nil
        var sawRoot = false
        func tagName(_ from: Int) -> (String, Int, Bool) {
            var j = from
            while j < bytes.count, bytes[j] != UInt8(ascii: ">"), bytes[j] != UInt8(ascii: " "),
                bytes[j] != UInt8(ascii: "/"),
                bytes[j] != UInt8(ascii: "\n"), bytes[j] != UInt8(ascii: "\t"), bytes[j] != UInt8(ascii: "\r")
            { j += 1 }
            let name = String(decoding: bytes[from..<j], as: UTF8.self)
            while j < bytes.count, bytes[j] != UInt8(ascii: ">") { j += 1 }
            let selfClosing = j > 0 && bytes[j - 1] == UInt8(ascii: "/")
            return (name, j + 1, selfClosing)
        }
        while i < bytes.count {
            guard bytes[i] == UInt8(ascii: "<") else {
                i += 1
                continue
            }
            let next = i + 1 < bytes.count ? bytes[i + 1] : 0
            if next == UInt8(ascii: "?") || next == UInt8(ascii: "!") {
                // Declaration or comment.
                if let end = find(bytes, next == UInt8(ascii: "!") ? "-->" : "?>", from: i) {
                    i = end
                    continue
                }
                throw Malformed(description: "unterminated declaration at byte \(i)")
            }
            if next == UInt8(ascii: "/") {
                let (name, after, _) = tagName(i + 2)
                if depth == 2, var c = current, name == c.kind {
                    c.position = entries.count
                    entries.append(c)
                    current = nil
                }
                depth -= 1
                i = after
                continue
            }
            let (name, after, selfClosing) = tagName(i + 1)
            switch depth {
            case 0:
                guard name == "log" else { throw Malformed(description: "root element is <\(name)>, not <log>") }
                sawRoot = true
                if selfClosing { return entries }
                depth = 1
                i = after
            case 1:
                current = WorkloadLogEntry(kind: name)
                if selfClosing {
                    if var c = current {
                        c.position = entries.count
                        entries.append(c)
                    }
                    current = nil
                } else {
                    depth = 2
                }
                i = after
            case 2:
                if selfClosing {
                    current?.fields[name] = ""
                    i = after
                    continue
                }
                guard let close = find(bytes, "</", from: after) else {
                    throw Malformed(description: "unclosed <\(name)>")
                }
                current?.fields[name] = unescape(String(decoding: bytes[after..<(close - 2)], as: UTF8.self))
                let (closeName, afterClose, _) = tagName(close)
                guard closeName == name else { throw Malformed(description: "<\(name)> closed by </\(closeName)>") }
                i = afterClose
            default:
                throw Malformed(description: "nesting deeper than log/entry/field at byte \(i)")
            }
        }
        guard sawRoot else { throw Malformed(description: "no <log> element") }
        return entries
    }

    /// Index just past `needle` found at or after `from`.
    private static func find(_ b: [UInt8], _ needle: String, from: Int) -> Int? {
        let n = Array(needle.utf8)
        var i = from
        while i + n.count <= b.count {
            if b[i] == n[0] && Array(b[i..<(i + n.count)]) == n { return i + n.count }
            i += 1
        }
        return nil
    }

    static func unescape(_ s: String) -> String {
        guard s.contains("&") else { return s.trimmingCharacters(in: .whitespacesAndNewlines) }
        var out = s.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&apos;", with: "'")
        while let r = out.range(of: "&#"), let end = out[r.upperBound...].firstIndex(of: ";") {
            let body = out[r.upperBound..<end]
            let value = body.hasPrefix("x") ? UInt32(body.dropFirst(), radix: 16) : UInt32(body)
            out.replaceSubrange(
                r.lowerBound...end, with: value.flatMap(UnicodeScalar.init).map { String(Character($0)) } ?? "")
        }
        return out.replacingOccurrences(of: "&amp;", with: "&").trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// Decimal dollars ↔ integer cents, written here again so the model does not borrow the services' parser.
enum WorkloadMoney {
    /// `123`, `123.4`, `123.45`, `-5.00` → cents; nil for anything else.
    static func cents(_ text: String) -> Int64? {
        var s = Substring(text.trimmingCharacters(in: .whitespaces))
        var sign: Int64 = 1
        if s.hasPrefix("-") {
            sign = -1
            s = s.dropFirst()
        }
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let whole = parts.first, !whole.isEmpty, whole.count <= 15,
            whole.allSatisfy({ $0.isASCII && $0.isNumber }), let w = Int64(whole)
        else { return nil }
        var frac: Int64 = 0
        if parts.count == 2 {
            let f = parts[1]
            guard !f.isEmpty, f.count <= 2, f.allSatisfy({ $0.isASCII && $0.isNumber }), let v = Int64(f) else {
                return nil
            }
            frac = f.count == 1 ? v * 10 : v
        }
        return sign * (w * 100 + frac)
    }

    static func text(_ cents: Int64) -> String {
        let m = cents.magnitude
        return (cents < 0 ? "-" : "") + "\(m / 100)." + (m % 100 < 10 ? "0" : "") + "\(m % 100)"
    }
}

/// The log indexed the ways the model asks for it.
struct WorkloadLogIndex {
    var userCommands: [WorkloadLogKey: WorkloadLogEntry] = [:]
    var duplicateUserCommands: [WorkloadLogKey] = []
    var errors: [WorkloadLogKey: WorkloadLogEntry] = [:]
    var freshQuotes: [WorkloadLogKey: [WorkloadLogEntry]] = [:]
    /// Every real hit per symbol, by log timestamp.
    var quotesBySymbol: [String: [WorkloadLogEntry]] = [:]
    var accountTransactions: [WorkloadLogKey: [WorkloadLogEntry]] = [:]
    /// systemEvents SET_BUY_TRIGGER / SET_SELL_TRIGGER: trigger firings, per user.
    var firings: [String: [WorkloadLogEntry]] = [:]

    init(_ entries: [WorkloadLogEntry], users: Set<String>) {
        for e in entries {
            let key = WorkloadLogKey(user: e.user, txn: e.txn)
            switch e.kind {
            case "quoteServer":
                quotesBySymbol[e.symbol, default: []].append(e)
                if users.contains(e.user) { freshQuotes[key, default: []].append(e) }
            case "userCommand" where users.contains(e.user):
                if userCommands[key] != nil { duplicateUserCommands.append(key) }
                userCommands[key] = e
            case "errorEvent" where users.contains(e.user):
                errors[key] = e
            case "accountTransaction" where users.contains(e.user):
                accountTransactions[key, default: []].append(e)
            case "systemEvent"
            where users.contains(e.user) && (e.command == "SET_BUY_TRIGGER" || e.command == "SET_SELL_TRIGGER"):
                firings[e.user, default: []].append(e)
            default:
                break
            }
        }
        for k in quotesBySymbol.keys { quotesBySymbol[k]?.sort { $0.timestamp < $1.timestamp } }
        for k in firings.keys { firings[k]?.sort { ($0.timestamp, $0.position) < ($1.timestamp, $1.position) } }
    }

    /// Real hits of `symbol` that may have priced a command stamped `t` (obtained < 60 s before it,
    /// or just after it while the command waited for the quote), nearest first.
    func candidates(symbol: String, at t: Int64, slackMillis: Int64 = 2000) -> [WorkloadLogEntry] {
        let all = quotesBySymbol[symbol] ?? []
        let window = all.filter { $0.timestamp > t - 60_000 && $0.timestamp <= t + slackMillis }
        let before = window.filter { $0.timestamp <= t }.reversed()
        let after = window.filter { $0.timestamp > t }
        return Array(before) + after
    }
}
