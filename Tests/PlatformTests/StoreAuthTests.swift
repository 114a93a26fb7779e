import Foundation
import ServiceCore
import XCTest

/// PostgreSQL and Redis want passwords from every client, and the services' database role is no
/// superuser; services start only with the secrets they need.
final class StoreAuthTests: XCTestCase {
    /// DT_TEST_PG without its password= item (and no passfile), as a local intruder would connect.
    private func conninfo(user: String = "daytrade", password: String?) throws -> String {
        let kept = try EdgeEnv.require("DT_TEST_PG").split(separator: " ").filter {
            !$0.hasPrefix("password=") && !$0.hasPrefix("user=")
        }
        var items = kept.map(String.init) + ["user=\(user)", "passfile=/nonexistent", "connect_timeout=5"]
        if let password { items.append("password=\(password)") }
        return items.joined(separator: " ")
    }

    /// One `key=value` item of a libpq conninfo.
    static func item(_ key: String, of conninfo: String) throws -> String {
        let item = conninfo.split(separator: " ").first { $0.hasPrefix(key + "=") }
        return String(try XCTUnwrap(item, "no \(key) in \(conninfo)").dropFirst(key.count + 1))
    }

    func testPostgresRefusesLoginsWithoutTheRightPassword() throws {
        for user in ["daytrade", "postgres"] {
            XCTAssertThrowsError(
                try PGConnection(try conninfo(user: user, password: nil)), "\(user) without a password")
            XCTAssertThrowsError(
                try PGConnection(try conninfo(user: user, password: "wrong-password")), "\(user) with a wrong password")
        }
        XCTAssertNoThrow(try PGConnection(try conninfo(password: try EdgeEnv.require("DT_TEST_PG_PASSWORD"))))
    }

    func testPsqlWithoutThePasswordIsRefused() throws {
        let psql = ["/usr/bin/psql", "/usr/local/bin/psql"].first { FileManager.default.isExecutableFile(atPath: $0) }
        let path = try XCTUnwrap(psql, "psql is installed with the postgresql package")
        let base = [
            "-X", "-w", "-h", "127.0.0.1", "-p", try Self.item("port", of: try EdgeEnv.require("DT_TEST_PG")), "-U",
            "daytrade", "-d", "daytrade", "-tAc", "SELECT 1",
        ]
        let without = try run(path, base, env: [:])
        XCTAssertNotEqual(without.status, 0, without.output)
        XCTAssertTrue(without.output.contains("password"), without.output)
        XCTAssertNotEqual(try run(path, base, env: ["PGPASSWORD": "wrong-password"]).status, 0)
        let right = try run(path, base, env: ["PGPASSWORD": try EdgeEnv.require("DT_TEST_PG_PASSWORD")])
        XCTAssertEqual(right.status, 0, right.output)
    }

    func testTheApplicationRoleIsAPlainDatabaseOwner() throws {
        let db = try PGConnection(try EdgeEnv.require("DT_TEST_PG"))
        let r = try db.query(
            """
            SELECT r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolbypassrls, current_setting('is_superuser'),
                   pg_get_userbyid(d.datdba)
            FROM pg_roles r, pg_database d WHERE r.rolname = current_user AND d.datname = current_database()
            """)
        XCTAssertEqual(r.count, 1)
        XCTAssertEqual(r.bool(0, 0), false, "superuser")
        XCTAssertEqual(r.bool(0, 1), false, "createrole")
        XCTAssertEqual(r.bool(0, 2), false, "createdb")
        XCTAssertEqual(r.bool(0, 3), false, "bypassrls")
        XCTAssertEqual(r.string(0, 4), "off")
        XCTAssertEqual(r.string(0, 5), "daytrade", "owns its database")
        XCTAssertThrowsError(try db.execute("CREATE ROLE trust_probe_role"), "no role management")
    }

    func testRedisWantsAuth() throws {
        let ep = try XCTUnwrap(Endpoint(try EdgeEnv.require("DT_TEST_REDIS")))
        guard case .error(let message) = try RedisConnection(ep).command(["PING"]) else {
            return XCTFail("PING without AUTH was answered")
        }
        XCTAssertTrue(message.hasPrefix("NOAUTH"), message)
        XCTAssertThrowsError(try RedisConnection(ep, password: "wrong-password"), "AUTH with a wrong password")
        XCTAssertEqual(
            try RedisConnection(ep, password: try EdgeEnv.require("DT_TEST_REDIS_PASSWORD")).command(["PING"]),
            .status("PONG"))
        // redis-cli, the way someone on the host would try.
        let cli = try run("/usr/bin/redis-cli", ["-h", ep.host, "-p", String(ep.port), "PING"], env: [:])
        XCTAssertTrue(cli.output.contains("NOAUTH"), cli.output)
    }

    /// After kill -9 and a restart the services authenticate again on their own: classic quotes
    /// (quote cache and counters in Redis) and the engine's balance cache keep working.
    func testServicesReauthenticateAfterRedisRestarts() throws {
        let restart = try EdgeEnv.require("DT_TEST_REDIS_RESTART")
        let ep = try EdgeEnv.nginx()
        let (_, token) = try EdgeHTTP.newUser(ep, prefix: "trustredis")
        XCTAssertEqual(
            try EdgeHTTP.call(
                ep, "POST", "/transaction/addMoneyToWallet", headers: [("token", token)], body: #"{"amount":10}"#
            ).status, 200)
        XCTAssertEqual(PTShell.run(restart + " restart"), 0, "kill -9 and start Redis")
        let redis = try PTEnv.redis()

        let quote = try EdgeHTTP.call(
            ep, "POST", "/classic/QUOTE", headers: [("token", token)], body: #"{"stock":"RDS"}"#)
        XCTAssertEqual(quote.status, 200, quote.text)
        let cached = try EdgeHTTP.call(
            ep, "POST", "/classic/QUOTE", headers: [("token", token)], body: #"{"stock":"RDS"}"#)
        XCTAssertEqual(cached.json?["data"]?["cached"], .bool(true), "the second quote came from Redis: \(cached.text)")
        XCTAssertEqual(
            try EdgeHTTP.call(
                ep, "POST", "/transaction/addMoneyToWallet", headers: [("token", token)], body: #"{"amount":5}"#
            ).status, 200)
        let id = try XCTUnwrap(EdgeHTTP.whoami(ep, token: token).json?["data"]?["user_id"]?.stringValue)
        let written = try XCTUnwrap(
            try redis.command(["GET", "wallet:\(id)"]).text, "the engine wrote through to the new Redis")
        XCTAssertTrue(written.hasSuffix(":1500"), "version:cents written through: \(written)")
    }

    func testServicesRefuseToStartWithoutTheirSecrets() throws {
        let pg = try EdgeEnv.require("DT_TEST_PG")
        let redis = try EdgeEnv.require("DT_TEST_REDIS")
        let key = try EdgeEnv.require("DT_TEST_INTERNAL_KEY")
        let cases: [(String, [String: String], String)] = [
            (
                "auth", ["DT_JWT_SECRET": "s", "DT_PG": pg, "DT_PG_PASSWORD": "p", "DT_INTERNAL_KEY": key],
                "DT_ADMIN_PASSWORD"
            ),
            (
                "auth", ["DT_ADMIN_PASSWORD": "a", "DT_PG": pg, "DT_PG_PASSWORD": "p", "DT_INTERNAL_KEY": key],
                "DT_JWT_SECRET"
            ),
            (
                "buy", ["DT_PG": pg, "DT_PG_PASSWORD": "p", "DT_REDIS": redis, "DT_INTERNAL_KEY": key],
                "DT_REDIS_PASSWORD"
            ),
            (
                "matching-engine", ["DT_PG": pg, "DT_REDIS": redis, "DT_REDIS_PASSWORD": "r", "DT_INTERNAL_KEY": key],
                "DT_PG_PASSWORD"
            ),
            ("quote-server", ["DT_QUOTE_TCP_PORT": "0"], "DT_INTERNAL_KEY"),
            ("gateway", ["DT_JWT_SECRET": "s"], "DT_INTERNAL_KEY"),
        ]
        for (name, env, missing) in cases {
            var all = env
            all["DT_PORT"] = "0"
            let r = try run(try EdgeEnv.binary(name), [], env: all, clearDT: true)
            XCTAssertNotEqual(r.status, 0, "\(name) without \(missing) started: \(r.output.suffix(500))")
            XCTAssertTrue(
                r.output.contains("\(missing) is not set; refusing to start"), "\(name): \(r.output.suffix(500))")
        }
    }

    /// Runs a program to its end (the refusals above exit at once) with `env` on top of ours;
    /// `clearDT` drops every inherited DT_* variable first.
    private func run(_ path: String, _ args: [String], env: [String: String], clearDT: Bool = false) throws -> (
        status: Int32, output: String
    ) {
        var environment = ProcessInfo.processInfo.environment.filter {
            $0.key != "PGPASSWORD" && $0.key != "REDISCLI_AUTH"
        }
        if clearDT { environment = environment.filter { !$0.key.hasPrefix("DT_") } }
        for (k, v) in env { environment[k] = v }
        // A service that wrongly starts would never end: stop it so the output can be read.
        return try PTShell.capture(path, args, environment: environment, timeout: 30)
    }
}
