import Foundation
import ServiceCore
import XCTest

/// Replays the official 1-user and 10-user workloads through nginx with dts-replay (fresh user
/// names and transaction numbers, same commands), then checks the outcome against an independent model of
/// spec/classic.md (WorkloadModel): every command's success or error code, every user's final cash
/// and shares (free and reserved), the external-flow journal, money conservation, the DUMPLOG's
/// validity against logfile.xsd, and that every quote the run relied on was signed by the quote
/// server.
final class WorkloadReplayTests: XCTestCase {
    func testOneUserWorkloadMatchesModel() throws {
        try replayAndCheck("1userWorkLoad.txt", concurrency: 1)
    }

    func testTenUserWorkloadMatchesModel() throws {
        try replayAndCheck("10User_testWorkLoad.txt", concurrency: 10)
    }

    // MARK: -

    private func replayAndCheck(_ workloadName: String, concurrency: Int) throws {
        let env: WorkloadReplayEnv
        do { env = try WorkloadReplayEnv.load() } catch { return XCTFail("\(error)") }
        let source = try String(contentsOfFile: env.sharedDir + "/classic/workloads/" + workloadName, encoding: .utf8)

        // Same workload with fresh 10-character user ids, so runs never meet earlier state.
        let (lines, commands, users) = Self.remap(source)
        XCTAssertFalse(users.isEmpty, "no users in \(workloadName)")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("workload-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let workloadFile = dir + "/" + workloadName
        try (lines.joined(separator: "\n") + "\n").write(toFile: workloadFile, atomically: true, encoding: .utf8)

        // Replay.
        let binary = env.binDir + "/dts-replay"
        guard FileManager.default.isExecutableFile(atPath: binary) else { return XCTFail("no dts-replay at \(binary)") }
        let run = try workloadRun(
            binary,
            [
                workloadFile, "--url", env.nginx, "--concurrency", String(concurrency), "--out", dir,
                "--summary-json", dir + "/summary.json", "--no-progress", "--timeout", "30000",
                "--quote-url", "http://\(env.quoteServer)", "--stats-url", "http://127.0.0.1:\(8400 + env.portBase)",
                "--admin-password", env.adminPassword, "--password-salt", UUID().uuidString,
            ])
        XCTAssertEqual(run.status, 0, "dts-replay failed:\n\(run.output.suffix(4000))")
        let summary = try JSON.parse(Array(try Data(contentsOf: URL(fileURLWithPath: dir + "/summary.json"))))
        XCTAssertEqual(
            summary["commands"]?.int64Value, Int64(commands.count + 1), "commands replayed (+ the final DUMPLOG)")
        XCTAssertEqual(summary["transportErrors"], .object([]), "transport errors:\n\(run.output.suffix(2000))")

        // The workload's own DUMPLOG: schema-valid.
        let dumpPath = dir + "/testLOG"
        XCTAssertTrue(
            FileManager.default.fileExists(atPath: dumpPath),
            "dts-replay saved no ./testLOG:\n\(run.output.suffix(2000))")
        if FileManager.default.fileExists(atPath: dumpPath) {
            let v = try WorkloadSchemaCheck.validate(dumpPath, sharedDir: env.sharedDir)
            XCTAssertTrue(v.ok, "DUMPLOG fails logfile.xsd:\n\(v.message)")
        }

        // Database snapshot, then a fresh whole-system DUMPLOG that covers everything before it.
        // Keep clear of pending orders expiring right at the snapshot (the sweeper may lag ~1 s).
        let db = try PGConnection(env.postgres)
        var attempt = 0
        while true {
            attempt += 1
            let t0 = Clock.wallMillis()
            let snapshot = try WorkloadLedgerSnapshot.read(db, users: users)
            let t1 = Clock.wallMillis()
            let entries = try WorkloadLogReader.parse(try Self.adminDump(env))
            let index = WorkloadLogIndex(entries, users: Set(users))
            let model = WorkloadModel(log: index)
            for u in users { model.run(user: u, commands: commands.filter { $0.user == u }, until: t0) }
            let near = model.pendingExpiries().filter { $0 > t0 - 2500 && $0 < t1 + 2500 }
            if let last = near.max(), attempt < 4 {
                usleep(UInt32(max(0, last + 2500 - Clock.wallMillis())) * 1000) // a real deadline, not a guess
                continue
            }
            try check(model: model, index: index, snapshot: snapshot, users: users, env: env, workload: workloadName)
            break
        }
    }

    private func check(
        model: WorkloadModel, index: WorkloadLogIndex, snapshot: WorkloadLedgerSnapshot, users: [String],
        env: WorkloadReplayEnv, workload: String
    ) throws {
        var problems = model.problems
        problems += model.missedFirings()
        problems += snapshot.conservation.map { "conservation: \($0)" }
        for key in index.duplicateUserCommands { problems.append("\(key.user) [\(key.txn)]: two userCommand entries") }
        for u in users {
            guard let a = model.accounts[u] else { continue }
            let db = snapshot.cash[u] ?? (0, 0)
            if db.free != a.cash || db.reserved != a.reservedCash {
                problems.append(
                    "\(u) cash: database \(WorkloadMoney.text(db.free)) free + \(WorkloadMoney.text(db.reserved)) reserved, "
                        + "model \(WorkloadMoney.text(a.cash)) + \(WorkloadMoney.text(a.reservedCash))")
            }
            let symbols = Set(a.free.keys).union(a.held.keys).union((snapshot.shares[u] ?? [:]).keys)
            for sym in symbols.sorted() {
                let d = snapshot.shares[u]?[sym] ?? (0, 0)
                let mf = a.free[sym] ?? 0
                let mh = a.held[sym] ?? 0
                if d.free != mf || d.reserved != mh {
                    problems.append(
                        "\(u) \(sym): database \(d.free) free + \(d.reserved) reserved shares, model \(mf) + \(mh)")
                }
            }
            if (snapshot.flowCents[u] ?? 0) != a.flowCents {
                problems.append(
                    "\(u) external cash flows: journal \(WorkloadMoney.text(snapshot.flowCents[u] ?? 0)), model \(WorkloadMoney.text(a.flowCents))"
                )
            }
            for sym in Set(a.flowShares.keys).union((snapshot.flowShares[u] ?? [:]).keys).sorted()
            where (snapshot.flowShares[u]?[sym] ?? 0) != (a.flowShares[sym] ?? 0) {
                problems.append(
                    "\(u) \(sym) share flows: journal \(snapshot.flowShares[u]?[sym] ?? 0), model \(a.flowShares[sym] ?? 0)"
                )
            }
            // The log's accountTransactions tell the same story as the model, number by number.
            var logged: [Int: Int64] = [:]
            for (key, list) in index.accountTransactions where key.user == u {
                for e in list {
                    logged[key.txn, default: 0] += (e.fields["action"] == "remove" ? -1 : 1) * (e.fundsCents ?? 0)
                }
            }
            for txn in Set(logged.keys).union(a.cashByTxn.keys).sorted()
            where (logged[txn] ?? 0) != (a.cashByTxn[txn] ?? 0) {
                problems.append(
                    "\(u) [\(txn)] accountTransactions net \(WorkloadMoney.text(logged[txn] ?? 0)), model \(WorkloadMoney.text(a.cashByTxn[txn] ?? 0))"
                )
            }
        }
        problems += try verifyQuotes(model.usedQuotes, env: env)
        let shown = problems.prefix(40).joined(separator: "\n")
        XCTAssertTrue(problems.isEmpty, "\(workload): \(problems.count) problem(s) against the model:\n\(shown)")
        print(
            "\(workload): \(users.count) users; \(model.succeeded) commands succeeded, \(model.failed) failed as the model expects; "
                + "\(model.firingsApplied) trigger firings; \(model.usedQuotes.count) quote uses verified; "
                + "\(model.ambiguousChoices) timing-ambiguous commands resolved by the log")
    }

    /// Every quote the run relied on has the legacy key shape and the quote server's signature.
    private func verifyQuotes(_ quotes: [WorkloadLogEntry], env: WorkloadReplayEnv) throws -> [String] {
        var problems: [String] = []
        var seen = Set<String>()
        for q in quotes {
            let key = q.fields["cryptokey"] ?? ""
            guard seen.insert(key).inserted else { continue }
            if key.count != 56 || !key.hasSuffix("==") {
                problems.append(
                    "quote \(q.symbol) [\(q.txn)]: cryptokey '\(key)' is not 56 base64 characters ending '=='")
            }
            guard let cents = q.priceCents else {
                problems.append("quote \(q.symbol) [\(q.txn)]: bad price")
                continue
            }
            let query = [
                ("price", WorkloadMoney.text(cents)), ("symbol", q.symbol), ("user", q.user),
                ("timestamp", q.fields["quoteServerTime"] ?? ""), ("cryptokey", key),
            ]
            .map { "\($0.0)=\(Self.percentEncode($0.1))" }.joined(separator: "&")
            let r = try TestEnv.signedClient.request(
                env.quoteServer, method: "GET", path: "/verify?" + query, timeoutMillis: 5000)
            if (try? r.json())?["valid"]?.boolValue != true {
                problems.append(
                    "quote \(q.symbol) \(WorkloadMoney.text(cents)) for \(q.user) [\(q.txn)]: the quote server did not sign it"
                )
            }
            if problems.count > 20 { break }
        }
        return problems
    }

    static func percentEncode(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            if (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D
                || b == 0x2E || b == 0x5F
            {
                out.unicodeScalars.append(UnicodeScalar(b))
            } else {
                out += String(format: "%%%02X", b)
            }
        }
        return out
    }

    /// Whole-system DUMPLOG through nginx as admin.
    static func adminDump(_ env: WorkloadReplayEnv) throws -> [UInt8] {
        guard let nginx = env.nginxEndpoint else {
            throw WorkloadReplayEnv.Missing.env("DT_TEST_NGINX is not http://host:port")
        }
        let login = try HTTPClient.shared.json(
            nginx, method: "POST", path: "/authentication/login",
            body: .object([("user_name", .string("admin")), ("password", .string(env.adminPassword))]))
        guard login.status == 200, let token = (try? login.json())?["data"]?["token"]?.stringValue else {
            throw WorkloadReplayEnv.Missing.env(
                "admin login failed: HTTP \(login.status) \(String(decoding: login.body.prefix(200), as: UTF8.self))")
        }
        let r = try HTTPClient.shared.json(
            nginx, method: "POST", path: "/classic/DUMPLOG", headers: [("Authorization", "Bearer \(token)")],
            body: .object([("filename", .string("./modelcheck"))]), timeoutMillis: 120_000)
        guard r.status == 200 else {
            throw WorkloadReplayEnv.Missing.env(
                "admin DUMPLOG failed: HTTP \(r.status) \(String(decoding: r.body.prefix(300), as: UTF8.self))")
        }
        return r.body
    }

    /// The workload with each userid replaced by a fresh random 10-character id, and each 3-letter
    /// symbol by a fresh one starting V–Z (other tests count their symbols up from AAA and may seed
    /// the shared quote cache with made-up prices). The 1-letter `S` of the 1-user file stays: no
    /// other test uses 1-letter symbols. Parsed here on its own (trim, `[N]`, first space, then
    /// commas), not with dts-replay's parser.
    static func remap(_ text: String) -> (lines: [String], commands: [WorkloadModelCommand], users: [String]) {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        var symbols: [String: String] = [:]
        var usedSymbols = Set<String>()
        func symbol(_ old: String) -> String {
            guard old.count == 3 else { return old }
            if let s = symbols[old] { return s }
            var made = ""
            repeat {
                made = String([
                    letters[Int.random(in: 21..<26)], letters[Int.random(in: 0..<26)], letters[Int.random(in: 0..<26)],
                ])
            } while usedSymbols.contains(made)
            usedSymbols.insert(made)
            symbols[old] = made
            return made
        }
        // Fresh transaction numbers too: a client-chosen number belongs to its first user, so
        // runs of different workloads on one stack must not reuse each other's numbers.
        let numberOffset = Int.random(in: 1...900_000) * 1_000_000
        var ids: [String: String] = [:]
        var order: [String] = []
        var lines: [String] = []
        var commands: [WorkloadModelCommand] = []
        for raw in text.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            guard line.hasPrefix("["), let close = line.firstIndex(of: "]"),
                let given = Int(line[line.index(after: line.startIndex)..<close])
            else { continue }
            let n = given + numberOffset
            var fields = line[line.index(after: close)...].trimmingCharacters(in: .whitespaces)
                .split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard let name = fields.first else { continue }
            if name == "DUMPLOG" && fields.count == 2 {
                lines.append("[\(n)] \(fields.joined(separator: ","))")
                continue
            }
            guard fields.count >= 2 else { continue }
            let old = fields[1]
            let id =
                ids[old]
                ?? {
                    let made = String((0..<10).map { _ in alphabet[Int.random(in: 0..<alphabet.count)] })
                    ids[old] = made
                    order.append(made)
                    return made
                }()
            fields[1] = id
            if name != "ADD" && fields.count > 2 && fields[2].allSatisfy({ $0.isASCII && $0.isUppercase }) {
                fields[2] = symbol(fields[2])
            }
            lines.append("[\(n)] \(fields.joined(separator: ",")) ")
            var c = WorkloadModelCommand(txn: n, name: name, user: id)
            switch name {
            case "ADD": c.amount = fields.count > 2 ? fields[2] : ""
            case "QUOTE", "CANCEL_SET_BUY", "CANCEL_SET_SELL": c.stock = fields.count > 2 ? fields[2] : ""
            case "BUY", "SELL", "SET_BUY_AMOUNT", "SET_BUY_TRIGGER", "SET_SELL_AMOUNT", "SET_SELL_TRIGGER":
                c.stock = fields.count > 2 ? fields[2] : ""
                c.amount = fields.count > 3 ? fields[3] : ""
            default: break
            }
            commands.append(c)
        }
        return (lines, commands, order)
    }
}
