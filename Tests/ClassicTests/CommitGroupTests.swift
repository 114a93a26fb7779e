import Foundation
import Ledger
import ServiceCore
import Synchronization
import XCTest

@testable import ClassicCore

/// The group commit itself: several commands in one transaction, a failing one does not spoil
/// the others, and nobody hears back before the batch has committed.
final class CommitGroupTests: ClassicTestCase {
    /// Holds a one-lane group's lane inside a batch until released, so whatever is submitted
    /// meanwhile forms the next batch, deterministically.
    private func withBlockedLane(_ group: CommitGroup, _ body: () throws -> Void) throws {
        let entered = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let done = DispatchSemaphore(value: 0)
        Thread {
            try? group.run(userKey: 0) { _, _ in
                entered.signal()
                release.wait()
            }
            done.signal()
        }.start()
        entered.wait()
        try body()
        release.signal()
        done.wait()
    }

    /// Submits `works` from one thread each, waits until all are queued, then lets the lane run.
    private func submitTogether(_ group: CommitGroup, _ works: [CommitGroup.Work]) throws -> [Error?] {
        let results = Mutex<[Int: Error?]>([:])
        let finished = DispatchGroup()
        try withBlockedLane(group) {
            for (i, w) in works.enumerated() {
                finished.enter()
                Thread {
                    var failure: Error?
                    do { try group.run(userKey: Int64(i), w) } catch { failure = error }
                    results.withLock { $0[i] = failure }
                    finished.leave()
                }.start()
            }
            // The queue is filled while the lane is held: poll until every submitter is in it.
            let deadline = Date().addingTimeInterval(10)
            while group.queued < works.count && Date() < deadline { usleep(1000) }
            XCTAssertEqual(group.queued, works.count, "all submitted while the lane was held")
        }
        finished.wait()
        return (0..<works.count).map { i in results.withLock { $0[i] ?? nil } }
    }

    private func makeGroup() throws -> CommitGroup {
        guard let info = TestEnv.value("DT_TEST_PG") else { throw XCTSkip("DT_TEST_PG is not set") }
        return CommitGroup(connInfo: info, lanes: 1, maxBatch: 64)
    }

    struct Boom: Error {}

    /// A server-range transactionNum nobody else uses (these debug entries are removed afterwards,
    /// so whole-system dumps of other tests never see them).
    static let txn: Int64 = 999_999_999_999_999

    private func removeEntries(_ marker: String) {
        _ = try? db.query("DELETE FROM classic_log WHERE server = $1 OR server = $2", [marker, marker + "-bad"])
    }

    func testOneBatchCommitsEveryCommandAndAFailingOneRunsAlone() throws {
        let group = try makeGroup()
        let marker = "cg" + newUserName()
        defer { removeEntries(marker) }
        let now = Clock.wallMillis()
        let works: [CommitGroup.Work] = (0..<8).map { i in
            { tx, log in
                if i == 3 {
                    try tx.query(
                        "INSERT INTO classic_log (kind, ts_ms, server, txn) VALUES ('debugEvent', $2, $1, $3)",
                        [marker + "-bad", now, CommitGroupTests.txn])
                    throw Boom()
                }
                log.append(
                    AuditEntry(
                        kind: .debugEvent, timestamp: now, server: marker, transactionNum: CommitGroupTests.txn,
                        message: "w\(i)"))
            }
        }
        let before = group.stats
        let errors = try submitTogether(group, works)
        XCTAssertTrue(errors[3] is Boom, "the failing command gets its own error")
        XCTAssertEqual(
            errors.enumerated().filter { $0.offset != 3 }.compactMap(\.element).count, 0, "the others succeed")
        let rows = try db.query("SELECT message FROM classic_log WHERE server = $1 ORDER BY id", [marker])
        XCTAssertEqual(
            Set((0..<rows.count).compactMap { rows.string($0, 0) }), Set((0..<8).filter { $0 != 3 }.map { "w\($0)" }),
            "the seven good commands' entries, once each")
        XCTAssertEqual(
            try db.query("SELECT count(*) FROM classic_log WHERE server = $1", [marker + "-bad"]).int64(0, 0), 0,
            "the failed command's write rolled back")
        let after = group.stats
        XCTAssertEqual(after.fallbacks - before.fallbacks, 1, "the batch fell back once")
    }

    func testCommandsShareOneTransaction() throws {
        let group = try makeGroup()
        let marker = "cg" + newUserName()
        defer { removeEntries(marker) }
        let now = Clock.wallMillis()
        // Every command of one batch sees the same transaction id.
        let works: [CommitGroup.Work] = (0..<6).map { i in
            { tx, log in
                let xid = try tx.query("SELECT txid_current()").int64(0, 0) ?? -1
                log.append(
                    AuditEntry(
                        kind: .debugEvent, timestamp: now, server: marker, transactionNum: CommitGroupTests.txn,
                        message: "\(xid)"))
            }
        }
        let before = group.stats
        let errors = try submitTogether(group, works)
        XCTAssertTrue(errors.allSatisfy { $0 == nil })
        let xids = try db.query("SELECT DISTINCT message FROM classic_log WHERE server = $1", [marker])
        XCTAssertEqual(xids.count, 1, "six commands, one transaction")
        let after = group.stats
        XCTAssertEqual(after.commands - before.commands, 7, "the holder's batch and the six")
        XCTAssertEqual(after.batches - before.batches, 2)
    }

    /// Real commands of many users through the services' engine path: every one is logged with
    /// its effects, and each user's balance equals what the log's account transactions say.
    func testManyUsersThroughTheGroupMatchTheirLog() throws {
        let sym = try newSymbol(price: 1000)
        let users = try (0..<16).map { _ in try newUser(cash: 50_000) }
        try ok(.QUOTE, users[0], stock: sym)
        let engine = self.engine!
        let pgs = try users.map { _ in try TestEnv.postgres() }
        let rds = try users.map { _ in try TestEnv.redis() }
        let finished = DispatchGroup()
        for (i, u) in users.enumerated() {
            nonisolated(unsafe) let (pg, rd) = (pgs[i], rds[i])
            finished.enter()
            Thread {
                defer { finished.leave() }
                for _ in 0..<5 {
                    _ = try? engine.execute(
                        ClassicRequest(.BUY, userid: u, stock: sym, amount: "30.00"), db: pg, redis: rd)
                    _ = try? engine.execute(ClassicRequest(.COMMIT_BUY, userid: u), db: pg, redis: rd)
                    _ = try? engine.execute(
                        ClassicRequest(.BUY, userid: u, stock: sym, amount: "999999.00"), db: pg, redis: rd)
                }
            }.start()
        }
        finished.wait()
        for u in users {
            let a = try XCTUnwrap(try account(u))
            XCTAssertEqual(a, Account(cash: 50_000 - 5 * 3_000, reserved: 0), u)
            XCTAssertEqual(try holding(u, sym), Holding(free: 15, reserved: 0), u)
            let log = try db.query(
                """
                SELECT COALESCE(SUM(CASE action WHEN 'add' THEN funds_cents ELSE -funds_cents END), 0)
                FROM classic_log WHERE username = $1 AND kind = 'accountTransaction'
                """, [u]
            ).int64(0, 0)
            XCTAssertEqual(log, a.cash + a.reserved, "\(u): the log's account transactions sum to the balance")
            let failed = try db.query(
                "SELECT count(*) FROM classic_log WHERE username = $1 AND kind = 'errorEvent'", [u]
            ).int64(0, 0)
            XCTAssertEqual(failed, 5, "\(u): each too-large BUY logged its errorEvent")
        }
    }
}

/// The audit log's one-statement batch insert keeps any text exactly (array literals quote it).
final class AuditBatchInsertTests: ClassicTestCase {
    func testEntriesWithAwkwardTextRoundTrip() throws {
        let marker = "ab" + newUserName()
        let now = Clock.wallMillis()
        let texts = [#"a "quoted" \ back\\slash, {braces} NULL"#, "", "line\nbreak\ttab", "NULL", "ünïcode €"]
        var log = AuditBuffer()
        for (i, t) in texts.enumerated() {
            log.append(
                AuditEntry(
                    kind: .debugEvent, timestamp: now + Int64(i), server: marker, transactionNum: CommitGroupTests.txn,
                    username: i == 1 ? nil : t, fundsCents: i == 2 ? nil : Int64(i), message: t))
        }
        let entries = log
        try db.transaction { tx in try entries.flush(tx) }
        defer { _ = try? db.query("DELETE FROM classic_log WHERE server = $1", [marker]) }
        let r = try db.query(
            "SELECT message, username, funds_cents, ts_ms FROM classic_log WHERE server = $1 ORDER BY id", [marker])
        XCTAssertEqual(r.count, texts.count)
        for i in 0..<r.count {
            XCTAssertEqual(r.string(i, 0), texts[i], "message \(i)")
            XCTAssertEqual(r.string(i, 1), i == 1 ? nil : texts[i], "username \(i)")
            XCTAssertEqual(r.int64(i, 2), i == 2 ? nil : Int64(i), "funds \(i)")
            XCTAssertEqual(r.int64(i, 3), now + Int64(i), "in order")
        }
    }
}
