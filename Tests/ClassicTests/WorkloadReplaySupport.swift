import Foundation
import Ledger
import ServiceCore
import XCTest

/// What the workload replay test needs from the test stack (scripts/test exports it all).
struct WorkloadReplayEnv {
    let nginx: String
    let postgres: String
    let binDir: String
    let portBase: Int
    let adminPassword: String
    let sharedDir: String

    enum Missing: Error, CustomStringConvertible {
        case env(String)
        var description: String {
            switch self {
            case .env(let m): return m
            }
        }
    }

    static func load() throws -> WorkloadReplayEnv {
        let env = ProcessInfo.processInfo.environment
        func need(_ k: String) throws -> String {
            guard let v = env[k], !v.isEmpty else {
                throw Missing.env(
                    "\(k) is not set: run the workload replay tests through scripts/test (it starts the stack and exports DT_TEST_*)"
                )
            }
            return v
        }
        let nginx = try need("DT_TEST_NGINX")
        let pg = try need("DT_TEST_PG")
        let bin = try need("DT_TEST_BIN_DIR")
        let base = Int(try need("DT_TEST_PORT_BASE")) ?? 0
        var admin = env["DT_TEST_ADMIN_PASSWORD"] ?? ""
        if admin.isEmpty, let state = env["DT_TEST_STATE"],
            let d = FileManager.default.contents(atPath: state + "/admin-password")
        {
            admin = String(decoding: d, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        guard !admin.isEmpty else {
            throw Missing.env("DT_TEST_ADMIN_PASSWORD is not set (nor DT_TEST_STATE/admin-password)")
        }
        // The course data lives in the repository (data/), copied from the reference material.
        let shared = try need("DT_TEST_REPO") + "/data"
        guard FileManager.default.fileExists(atPath: shared + "/classic/workloads") else {
            throw Missing.env("no data/classic/workloads in the repository at DT_TEST_REPO")
        }
        return WorkloadReplayEnv(
            nginx: nginx, postgres: pg, binDir: bin, portBase: base, adminPassword: admin, sharedDir: shared)
    }

    var nginxEndpoint: Endpoint? {
        var t = nginx
        if t.hasPrefix("http://") { t.removeFirst(7) }
        if let slash = t.firstIndex(of: "/") { t = String(t[..<slash]) }
        return Endpoint(t.contains(":") ? t : t + ":80")
    }

    var quoteServer: Endpoint { Endpoint(host: "127.0.0.1", port: 8500 + portBase) }
}

/// Runs a program to completion, returning its exit status and combined output.
func workloadRun(_ path: String, _ args: [String]) throws -> (status: Int32, output: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = args
    let out = FileManager.default.temporaryDirectory.appendingPathComponent("workload-run-\(UUID().uuidString).log")
    _ = FileManager.default.createFile(atPath: out.path, contents: nil)
    let handle = try FileHandle(forWritingTo: out)
    p.standardOutput = handle
    p.standardError = handle
    try p.run()
    p.waitUntilExit()
    try? handle.close()
    let text = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
    try? FileManager.default.removeItem(at: out)
    return (p.terminationStatus, text)
}

/// The stored state of the replayed users, read in one snapshot.
struct WorkloadLedgerSnapshot {
    var cash: [String: (free: Int64, reserved: Int64)] = [:]
    var shares: [String: [String: (free: Int64, reserved: Int64)]] = [:]
    var flowCents: [String: Int64] = [:]
    var flowShares: [String: [String: Int64]] = [:]
    var conservation: [String] = []

    static func read(_ db: PGConnection, users: [String]) throws -> WorkloadLedgerSnapshot {
        let names = "{" + users.joined(separator: ",") + "}" // 10-character alphanumeric ids: a safe array literal
        return try db.transaction(isolation: "REPEATABLE READ") { tx in
            var s = WorkloadLedgerSnapshot()
            let a = try tx.query(
                """
                SELECT u.user_name, COALESCE(a.cash_cents, 0), COALESCE(a.reserved_cents, 0)
                FROM users u LEFT JOIN accounts a ON a.user_id = u.id WHERE u.user_name = ANY($1::text[])
                """, [names])
            for i in 0..<a.count { if let u = a.string(i, 0) { s.cash[u] = (a.int64(i, 1) ?? 0, a.int64(i, 2) ?? 0) } }
            let h = try tx.query(
                """
                SELECT u.user_name, st.name, h.quantity, h.reserved FROM holdings h
                JOIN users u ON u.id = h.user_id JOIN stocks st ON st.id = h.stock_id WHERE u.user_name = ANY($1::text[])
                """, [names])
            for i in 0..<h.count {
                guard let u = h.string(i, 0), let sym = h.string(i, 1) else { continue }
                s.shares[u, default: [:]][sym] = (h.int64(i, 2) ?? 0, h.int64(i, 3) ?? 0)
            }
            let fc = try tx.query(
                """
                SELECT u.user_name, COALESCE(SUM(f.cents), 0)::TEXT FROM external_flows f JOIN users u ON u.id = f.user_id
                WHERE u.user_name = ANY($1::text[]) GROUP BY u.user_name
                """, [names])
            for i in 0..<fc.count { if let u = fc.string(i, 0) { s.flowCents[u] = Int64(fc.string(i, 1) ?? "") ?? 0 } }
            let fs = try tx.query(
                """
                SELECT u.user_name, st.name, COALESCE(SUM(f.shares), 0)::TEXT FROM external_flows f
                JOIN users u ON u.id = f.user_id JOIN stocks st ON st.id = f.stock_id
                WHERE u.user_name = ANY($1::text[]) GROUP BY u.user_name, st.name
                """, [names])
            for i in 0..<fs.count {
                guard let u = fs.string(i, 0), let sym = fs.string(i, 1) else { continue }
                s.flowShares[u, default: [:]][sym] = Int64(fs.string(i, 2) ?? "") ?? 0
            }
            s.conservation.append(contentsOf: try LedgerOps.conservationViolations(tx))
            return s
        }
    }
}

/// logfile.xsd with its semester window moved around now (spec §9), validated with xmllint.
enum WorkloadSchemaCheck {
    static func validate(_ xmlPath: String, sharedDir: String) throws -> (ok: Bool, message: String) {
        let xsd = try String(contentsOfFile: sharedDir + "/classic/schema/logfile.xsd", encoding: .utf8)
        let now = Clock.wallMillis()
        var patched = xsd.replacingOccurrences(
            of: #"<xsd:minInclusive value="\d+"/>"#,
            with: "<xsd:minInclusive value=\"\(now - 400 * 86_400_000)\"/>", options: .regularExpression)
        patched = patched.replacingOccurrences(
            of: #"<xsd:maxInclusive value="\d+"/>"#,
            with: "<xsd:maxInclusive value=\"\(now + 86_400_000)\"/>", options: .regularExpression)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("logfile-\(UUID().uuidString).xsd")
            .path
        try patched.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let r = try workloadRun("/usr/bin/xmllint", ["--noout", "--schema", path, xmlPath])
        return (r.status == 0, String(r.output.prefix(2000)))
    }
}
