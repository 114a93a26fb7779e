import Foundation
import ServiceCore
import XCTest

/// A state folder made by an older scripts/up (PostgreSQL with `trust` and `daytrade` as
/// superuser, Redis without a password, no password files) is secured in place by the next up,
/// with its data kept. Runs a storage-only stack of its own (no service binaries) beside the test stack.
final class TrustUpgradeTests: XCTestCase {
    private var state = ""
    private var env: [String: String] = [:]

    override func setUpWithError() throws {
        let base = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent(
            EdgeEnv.uniqueName("trust-upgrade"))
        state = base.path
        let noBinaries = base.appendingPathComponent("no-binaries").path
        try FileManager.default.createDirectory(atPath: noBinaries, withIntermediateDirectories: true)
        // Next to the test stack's ports (which scripts/test keeps clear of other stacks).
        let pgPort = try XCTUnwrap(Int(try StoreAuthTests.item("port", of: try EdgeEnv.require("DT_TEST_PG")))) + 50
        let redisPort = try XCTUnwrap(Endpoint(try EdgeEnv.require("DT_TEST_REDIS"))).port + 50
        env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("DT_") }
        env["STATE_DIR"] = state
        env["PG_PORT"] = String(pgPort)
        env["REDIS_PORT"] = String(redisPort)
        env["PORT"] = String(try EdgeEnv.nginx().port + 50)
        env["PORT_BASE"] = String(try EdgeEnv.portBase() + 1000)
        env["SKIP_BUILD"] = "1"
        env["SKIP_APT"] = "1"
        env["BIN_DIR"] = noBinaries
    }

    override func tearDownWithError() throws {
        _ = try script("down", ["--purge"])
        try? FileManager.default.removeItem(atPath: state)
    }

    private func script(_ name: String, _ args: [String] = []) throws -> (status: Int32, output: String) {
        try PTShell.capture(
            "/bin/bash", [try EdgeEnv.require("DT_TEST_REPO") + "/scripts/" + name] + args, environment: env)
    }

    private func secret(_ file: String) throws -> String {
        try String(contentsOfFile: state + "/" + file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private func pg(_ user: String, _ password: String?) throws -> PGConnection {
        var info =
            "host=127.0.0.1 port=\(env["PG_PORT"] ?? "") dbname=\(user == "postgres" ? "postgres" : "daytrade") user=\(user) passfile=/nonexistent connect_timeout=5"
        if let password { info += " password=\(password)" }
        return try PGConnection(info)
    }

    func testUpSecuresAnOlderTrustStackInPlace() throws {
        let first = try script("up")
        XCTAssertEqual(first.status, 0, first.output)

        // Turn it into what an older scripts/up left behind.
        let super1 = try pg("postgres", try secret("pg-superuser-password"))
        try super1.execute("ALTER ROLE daytrade SUPERUSER")
        let app = try pg("daytrade", try secret("pg-password"))
        try app.execute("CREATE TABLE upgrade_probe (x int); INSERT INTO upgrade_probe VALUES (42)")
        let dataDir = try String(contentsOfFile: state + "/pg.location", encoding: .utf8).trimmingCharacters(
            in: .whitespacesAndNewlines)
        try "host all all 127.0.0.1/32 trust\n".write(
            toFile: dataDir + "/pg_hba.conf", atomically: false, encoding: .utf8)
        try super1.execute("SELECT pg_reload_conf()")
        let redisPort = Int(env["REDIS_PORT"] ?? "") ?? 0
        let redis = try RedisConnection(
            Endpoint(host: "127.0.0.1", port: redisPort), password: try secret("redis-password"))
        XCTAssertEqual(try redis.command(["CONFIG", "SET", "requirepass", ""]), .status("OK"))
        for file in ["pg-password", "pg-superuser-password", "redis-password", "internal-key"] {
            try FileManager.default.removeItem(atPath: state + "/" + file)
        }
        // Trust is live once the postmaster has reloaded: then no password is needed.
        let deadline = Date().addingTimeInterval(10)
        while (try? pg("postgres", nil)) == nil && Date() < deadline { usleep(20_000) }
        XCTAssertNoThrow(try pg("postgres", nil), "the older stack's trust is in effect")

        let second = try script("up")
        XCTAssertEqual(second.status, 0, second.output)
        XCTAssertTrue(second.output.contains("replacing trust authentication"), second.output)
        XCTAssertTrue(second.output.contains("setting requirepass"), second.output)

        for user in ["postgres", "daytrade"] {
            XCTAssertThrowsError(try pg(user, nil), "\(user) without a password")
            XCTAssertThrowsError(try pg(user, "wrong"), "\(user) with a wrong password")
        }
        XCTAssertNoThrow(try pg("postgres", try secret("pg-superuser-password")))
        let upgraded = try pg("daytrade", try secret("pg-password"))
        XCTAssertEqual(try upgraded.query("SELECT x FROM upgrade_probe").int64(0, 0), 42, "data kept")
        XCTAssertEqual(
            try upgraded.query("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").bool(0, 0), false)
        let hba = try String(contentsOfFile: dataDir + "/pg_hba.conf", encoding: .utf8)
        XCTAssertFalse(hba.split(separator: "\n").contains { !$0.hasPrefix("#") && $0.contains("trust") }, hba)
        guard
            case .error(let message) = try RedisConnection(Endpoint(host: "127.0.0.1", port: redisPort)).command([
                "PING"
            ])
        else {
            return XCTFail("Redis still answers without AUTH")
        }
        XCTAssertTrue(message.hasPrefix("NOAUTH"), message)
        for file in [
            "pg-password", "pg-superuser-password", "redis-password", "internal-key", "jwt_secret", "admin-password",
        ] {
            let mode = try FileManager.default.attributesOfItem(atPath: state + "/" + file)[.posixPermissions] as? Int
            XCTAssertEqual(mode, 0o600, file)
        }
    }
}
