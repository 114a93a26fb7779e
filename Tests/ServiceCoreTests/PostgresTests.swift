import Foundation
import ServiceCore
import XCTest

final class PostgresTests: XCTestCase {
    private func connect() throws -> PGConnection { try PGConnection(try TestEnv.require("DT_TEST_PG")) }

    private func freshTable(_ db: PGConnection) throws -> String {
        let name = "t_core_\(UInt32.random(in: 0...UInt32.max))"
        try db.execute("CREATE TABLE \(name) (id SERIAL PRIMARY KEY, v TEXT NOT NULL)")
        addTeardownBlock { try? db.execute("DROP TABLE \(name)") }
        return name
    }

    func testParametersAreNeverSQL() throws {
        let db = try connect()
        let t = try freshTable(db)
        let hostile = "x'); DROP TABLE \(t); --"
        try db.query("INSERT INTO \(t) (v) VALUES ($1)", [hostile])
        let r = try db.query("SELECT v, id FROM \(t) WHERE v = $1", [hostile])
        XCTAssertEqual(r.count, 1)
        XCTAssertEqual(r.string(0, 0), hostile)
        XCTAssertEqual(r.column("id"), 1)
        XCTAssertNil(try db.query("SELECT NULL::TEXT").string(0, 0))
    }

    func testFailedTransactionLeavesNoRowBehind() throws {
        let db = try connect()
        let t = try freshTable(db)
        struct Abort: Error {}
        XCTAssertThrowsError(
            try db.transaction { tx in
                try tx.query("INSERT INTO \(t) (v) VALUES ($1)", ["first"])
                try tx.query("INSERT INTO \(t) (v) VALUES ($1)", ["second"])
                throw Abort()
            })
        // A failing statement inside the transaction also rolls back the earlier ones.
        XCTAssertThrowsError(
            try db.transaction { tx in
                try tx.query("INSERT INTO \(t) (v) VALUES ($1)", ["third"])
                try tx.query("INSERT INTO \(t) (v) VALUES (NULL)")
            })
        XCTAssertEqual(try db.query("SELECT count(*) FROM \(t)").int(0, 0), 0)
        // The connection is still usable afterwards.
        try db.transaction { tx in try tx.query("INSERT INTO \(t) (v) VALUES ($1)", ["ok"]) }
        XCTAssertEqual(try db.query("SELECT count(*) FROM \(t)").int(0, 0), 1)
    }

    func testSerializationFailureIsRetried() throws {
        let db = try connect()
        let t = try freshTable(db)
        var attempts = 0
        try db.transaction { tx in
            attempts += 1
            try tx.query("INSERT INTO \(t) (v) VALUES ($1)", ["attempt \(attempts)"])
            if attempts < 3 { try tx.execute("DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = '40001'; END $$") }
        }
        XCTAssertEqual(attempts, 3)
        let r = try db.query("SELECT v FROM \(t)")
        XCTAssertEqual(r.count, 1)
        XCTAssertEqual(r.string(0, 0), "attempt 3")
    }

    func testUniqueViolationIsReported() throws {
        let db = try connect()
        let t = try freshTable(db)
        try db.execute("CREATE UNIQUE INDEX ON \(t) (v)")
        try db.query("INSERT INTO \(t) (v) VALUES ($1)", ["dup"])
        XCTAssertThrowsError(try db.query("INSERT INTO \(t) (v) VALUES ($1)", ["dup"])) { e in
            XCTAssertEqual((e as? PGError)?.isUniqueViolation, true)
        }
    }

    func testMigrationsApplyOnceAndInOrder() throws {
        let db = try connect()
        let t = "t_mig_\(UInt32.random(in: 0...UInt32.max))"
        let base = Int.random(in: 1_000_000...9_000_000)
        let migrations = [
            Migration(base + 1, "add column", "ALTER TABLE \(t) ADD COLUMN extra INT"),
            Migration(base, "create", "CREATE TABLE \(t) (id INT)"),
        ]
        defer {
            try? db.execute("DROP TABLE IF EXISTS \(t)")
            try? db.query("DELETE FROM schema_migrations WHERE version >= $1 AND version <= $2", [base, base + 1])
        }
        try Migrator.apply(migrations, on: db)
        try Migrator.apply(migrations, on: db) // second run is a no-op
        XCTAssertEqual(
            try db.query("SELECT count(*) FROM schema_migrations WHERE version IN ($1, $2)", [base, base + 1]).int(
                0, 0), 2)
        try db.query("INSERT INTO \(t) (id, extra) VALUES (1, 2)")
    }

    func testConnectionClosedByTheServerIsSeenBeforeUse() throws {
        let victim = try connect()
        let admin = try connect()
        XCTAssertTrue(victim.isHealthy)
        let pid = try XCTUnwrap(try victim.query("SELECT pg_backend_pid()").int(0, 0))
        XCTAssertEqual(try admin.query("SELECT pg_terminate_backend($1)", [pid]).bool(0, 0), true)
        // The backend sends FATAL and closes; the check must notice without running a statement.
        let deadline = Date().addingTimeInterval(5)
        while victim.isHealthy && Date() < deadline { usleep(5_000) }
        XCTAssertFalse(victim.isHealthy)
        XCTAssertTrue(admin.isHealthy)
    }

    func testRowLocksSerializeConcurrentConditionalUpdates() throws {
        let conninfo = try TestEnv.require("DT_TEST_PG")
        let db = try connect()
        let t = "t_bal_\(UInt32.random(in: 0...UInt32.max))"
        try db.execute("CREATE TABLE \(t) (id INT PRIMARY KEY, cents BIGINT NOT NULL CHECK (cents >= 0))")
        defer { try? db.execute("DROP TABLE \(t)") }
        try db.query("INSERT INTO \(t) VALUES (1, 1000)")
        let successes = Counter()
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            guard let c = try? PGConnection(conninfo) else { return }
            for _ in 0..<10 {
                let ok =
                    (try? c.transaction { tx in
                        try tx.query("UPDATE \(t) SET cents = cents - 30 WHERE id = 1 AND cents >= 30").affectedRows
                    }) ?? 0
                if ok == 1 { successes.add() }
            }
        }
        XCTAssertEqual(successes.value, 33) // 1000 / 30: never overdrawn
        XCTAssertEqual(try db.query("SELECT cents FROM \(t)").int(0, 0), 10)
    }
}
