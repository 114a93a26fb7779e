import Foundation
import ServiceCore

/// One workload line: `[N] CMD,args` (or the per-user `$ CMD,args`). Fields are placed by the
/// command's argument layout, so a 1.2M-line workload stays small in memory.
struct WorkloadCommand: Sendable {
    /// The line's `[N]`, sent as transactionNum; 0 when the line has none (the server numbers it).
    var txn: Int = 0
    var name: String
    var user: String = ""
    var stock: String = ""
    var amount: String = ""
    var filename: String = ""
    /// Fields present (a malformed line such as `ADD,user,` keeps its empty amount).
    var hasStock = false, hasAmount = false, hasFilename = false

    /// Whole-system DUMPLOG (no userid): runs last, as admin.
    var isSystemDump: Bool { name == "DUMPLOG" && user.isEmpty }
}

enum WorkloadParser {
    /// Argument layout after the userid, per command (spec/classic.md §3).
    static func layout(_ name: String) -> [Field] {
        switch name {
        case "ADD": return [.amount]
        case "QUOTE", "CANCEL_SET_BUY", "CANCEL_SET_SELL": return [.stock]
        case "BUY", "SELL", "SET_BUY_AMOUNT", "SET_BUY_TRIGGER", "SET_SELL_AMOUNT", "SET_SELL_TRIGGER":
            return [.stock, .amount]
        case "COMMIT_BUY", "CANCEL_BUY", "COMMIT_SELL", "CANCEL_SELL", "DISPLAY_SUMMARY": return []
        default: return [.stock, .amount] // unknown commands: sent as they are; the server answers
        }
    }

    enum Field { case stock, amount }

    enum ParseError: Error, CustomStringConvertible {
        case malformed(line: Int, text: String, why: String)
        var description: String {
            switch self {
            case .malformed(let line, let text, let why): return "line \(line): \(why): \(text.prefix(80))"
            }
        }
    }

    /// Parses one line; nil for blank lines and `#` comments.
    static func parse(_ raw: Substring, lineNumber: Int) throws -> WorkloadCommand? {
        var text = raw.trimmingCharacters(in: .whitespacesAndNewlines)[...]
        if text.isEmpty || text.hasPrefix("#") { return nil }
        var txn = 0
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), let n = Int(text[text.index(after: text.startIndex)..<close]),
                n > 0
            else {
                throw ParseError.malformed(line: lineNumber, text: String(raw), why: "bad [N] prefix")
            }
            txn = n
            text = text[text.index(after: close)...]
        } else if text.hasPrefix("$") {
            text = text.dropFirst()
        } else if let space = text.firstIndex(of: " "), let n = Int(text[..<space]), n > 0 {
            txn = n // a bare `N CMD,args` numbering
            text = text[text.index(after: space)...]
        }
        let fields = text.trimmingCharacters(in: .whitespaces).split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        guard let name = fields.first, !name.isEmpty else {
            throw ParseError.malformed(line: lineNumber, text: String(raw), why: "no command")
        }
        var cmd = WorkloadCommand(txn: txn, name: name.uppercased())
        let args = Array(fields.dropFirst())
        if cmd.name == "DUMPLOG" {
            if args.count >= 2 {
                cmd.user = args[0]
                cmd.filename = args[1]
            } else {
                cmd.filename = args.first ?? ""
            }
            cmd.hasFilename = true
            return cmd
        }
        guard let user = args.first, !user.isEmpty else {
            throw ParseError.malformed(line: lineNumber, text: String(raw), why: "no userid")
        }
        cmd.user = user
        for (i, field) in layout(cmd.name).enumerated() where i + 1 < args.count {
            switch field {
            case .stock:
                cmd.stock = args[i + 1]
                cmd.hasStock = true
            case .amount:
                cmd.amount = args[i + 1]
                cmd.hasAmount = true
            }
        }
        return cmd
    }

    static func parse(text: String) throws -> [WorkloadCommand] {
        var out: [WorkloadCommand] = []
        var n = 0
        // isNewline: "\r\n" is one Character in Swift, so splitting on "\n" would leave CRLF files
        // (the 2023 copies) as one line.
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            n += 1
            if let c = try parse(line, lineNumber: n) { out.append(c) }
        }
        return out
    }
}

/// A workload grouped the way every harness runs it: one ordered stream per user, users in
/// parallel, whole-system DUMPLOGs after every stream has finished.
struct Workload: Sendable {
    var streams: [(user: String, commands: [WorkloadCommand])]
    var finalDumps: [WorkloadCommand]

    var commandCount: Int { streams.reduce(0) { $0 + $1.commands.count } + finalDumps.count }

    init(commands: [WorkloadCommand]) {
        var index: [String: Int] = [:]
        var streams: [(user: String, commands: [WorkloadCommand])] = []
        var dumps: [WorkloadCommand] = []
        for c in commands {
            if c.isSystemDump {
                dumps.append(c)
                continue
            }
            if let i = index[c.user] {
                streams[i].commands.append(c)
            } else {
                index[c.user] = streams.count
                streams.append((c.user, [c]))
            }
        }
        self.streams = streams
        self.finalDumps = dumps
    }

    /// Reads a workload file, a directory of per-user files, or a .tar.gz of them.
    static func load(path: String) throws -> Workload {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw ReplayError.usage("no such file: \(path)")
        }
        if isDir.boolValue { return try Workload(commands: readDirectory(path)) }
        if path.hasSuffix(".tar.gz") || path.hasSuffix(".tgz") {
            let dir = try extract(tarball: path)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            return try Workload(commands: readDirectory(dir))
        }
        return try Workload(commands: readFile(path))
    }

    static func readFile(_ path: String) throws -> [WorkloadCommand] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ReplayError.usage("cannot read \(path)")
        }
        do {
            return try WorkloadParser.parse(text: String(decoding: data, as: UTF8.self))
        } catch {
            throw ReplayError.usage("\(path): \(error)")
        }
    }

    /// Every regular file below `dir`, in name order (each holds one user's stream, or the final DUMPLOG).
    static func readDirectory(_ dir: String) throws -> [WorkloadCommand] {
        guard let walker = FileManager.default.enumerator(atPath: dir) else {
            throw ReplayError.usage("cannot list \(dir)")
        }
        var files: [String] = []
        for case let rel as String in walker {
            var isDir: ObjCBool = false
            let full = dir + "/" + rel
            if FileManager.default.fileExists(atPath: full, isDirectory: &isDir), !isDir.boolValue,
                !(rel as NSString).lastPathComponent.hasPrefix(".")
            {
                files.append(full)
            }
        }
        var all: [WorkloadCommand] = []
        for f in files.sorted() { all.append(contentsOf: try readFile(f)) }
        return all
    }

    static func extract(tarball: String) throws -> String {
        let dir = NSTemporaryDirectory() + "dts-replay-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let tar = Process()
        tar.executableURL = URL(fileURLWithPath: "/bin/tar")
        tar.arguments = ["-xzf", tarball, "-C", dir]
        try tar.run()
        tar.waitUntilExit()
        guard tar.terminationStatus == 0 else {
            try? FileManager.default.removeItem(atPath: dir)
            throw ReplayError.usage("tar -xzf \(tarball) failed (status \(tar.terminationStatus))")
        }
        return dir
    }
}

enum ReplayError: Error, CustomStringConvertible {
    case usage(String)
    case fatal(String)
    var description: String {
        switch self {
        case .usage(let m), .fatal(let m): return m
        }
    }
}

extension Workload {
    /// Gives every user a fresh 10-character id derived from `salt` (same salt, same ids), so a
    /// workload can run again on the same database without meeting its earlier state.
    mutating func remapUsers(salt: String) {
        func mapped(_ user: String) -> String {
            let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)
            let digest = Crypto.sha256(Array("\(salt)|\(user)".utf8))
            return String(decoding: digest.prefix(10).map { alphabet[Int($0) % alphabet.count] }, as: UTF8.self)
        }
        for i in streams.indices {
            let id = mapped(streams[i].user)
            streams[i].user = id
            for j in streams[i].commands.indices { streams[i].commands[j].user = id }
        }
    }
}
