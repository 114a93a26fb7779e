import Dispatch
import Ledger
import ServiceCore

/// Group commit for the classic commands: many commands per PostgreSQL transaction, so one WAL
/// flush and one COMMIT serve a whole batch, and the batch's audit entries go in with one
/// multi-row INSERT. Workers hand over the transactional part of a command (`Work`) and block
/// until the batch that ran it has committed, so nobody is answered before their effects are
/// durable.
///
/// Lanes: each lane is one thread with one connection; a user's commands always go to the same
/// lane (user id modulo lanes), so they run in arrival order. Every decision is still made by
/// PostgreSQL under the account's row lock inside the batch: nothing about accounts is kept in
/// memory here. A batch locks all of its users' accounts first (in id order), so each command
/// is stamped when it runs (`ClassicEngine.runLogged`) while its account is already locked: the
/// log then orders it against any other transaction on that account (a trigger firing, an
/// expiry sweep) exactly as the locks did.
///
/// Failures: a command that fails its own checks returns its error (and its errorEvent) without
/// writing anything else, so it never spoils the batch. Anything else that throws (a broken
/// invariant, a deadlock with another service's batch, a lost connection) rolls the batch back and
/// every command of it runs again alone in its own transaction, as if never batched. If COMMIT
/// itself fails the outcome is unknown: every command of the batch gets the error (5xx), never a 200.
/// See docs/ledger-batching.md.
public final class CommitGroup: Sendable {
    /// The transactional part of one command: runs inside the batch's transaction, appends its
    /// audit entries to the batch's buffer (written just before COMMIT).
    typealias Work = @Sendable (PGConnection, inout AuditBuffer) throws -> Void

    /// One command in its own transaction, as a batch of one runs it: its account locked, its
    /// work, its log (retried on serialization failures / deadlocks).
    static func runAlone(_ db: PGConnection, user: String?, _ work: Work) throws {
        try db.transaction { tx in
            try LedgerTx(tx).lockAccounts(named: user.map { [$0] } ?? [])
            var log = AuditBuffer()
            try work(tx, &log)
            try log.flush(tx)
        }
    }

    private let lanes: [Lane]

    /// `connInfo`: libpq conninfo; `lanes` ≥ 1 threads/connections; `maxBatch` commands per transaction.
    public init(connInfo: String, lanes: Int = 2, maxBatch: Int = 64, logger: Logger? = nil) {
        self.lanes = (0..<max(1, lanes)).map {
            Lane(index: $0, connInfo: connInfo, maxBatch: max(1, maxBatch), logger: logger)
        }
        for lane in self.lanes { lane.start() }
    }

    /// Runs `work` in the next batch of the user's lane; returns once that batch has committed
    /// (or throws what made the command's own transaction fail). `readsLog`: the command reads the
    /// audit log, so entries buffered by earlier commands of the batch are written first.
    /// `user`: the account the command decides on, locked before any command of the batch runs.
    func run(
        userKey: Int64, user: String? = nil, readsLog: Bool = false, _ work: @escaping Work
    ) throws {
        let job = Job(work: work, user: user, readsLog: readsLog)
        let lane = lanes[Int(UInt64(bitPattern: userKey) % UInt64(lanes.count))]
        lane.submit(job)
        job.done.wait()
        if let error = job.error { throw error }
    }

    /// Commands waiting for a lane right now.
    public var queued: Int { lanes.reduce(0) { $0 + $1.queued } }

    /// Batches committed and commands in them since start (for tests and metrics).
    public var stats: (batches: Int, commands: Int, fallbacks: Int) {
        lanes.reduce((0, 0, 0)) { acc, lane in
            let s = lane.stats
            return (acc.0 + s.batches, acc.1 + s.commands, acc.2 + s.fallbacks)
        }
    }
}

private final class Job: @unchecked Sendable {
    let work: CommitGroup.Work
    let user: String?
    let readsLog: Bool
    let done = DispatchSemaphore(value: 0)
    /// Written by the lane before `done` is signalled, read by the submitter after.
    var error: Error?

    init(work: @escaping CommitGroup.Work, user: String?, readsLog: Bool) {
        self.work = work
        self.user = user
        self.readsLog = readsLog
    }
}

/// One thread, one connection, one queue. State below is guarded by `cond`, except `db`, which
/// only the lane's thread touches.
private final class Lane: @unchecked Sendable {
    let index: Int
    let connInfo: String
    let maxBatch: Int
    let logger: Logger?
    private let cond = ThreadCondition()
    private var queue: [Job] = []
    private var counters = (batches: 0, commands: 0, fallbacks: 0)
    private var db: PGConnection?

    init(index: Int, connInfo: String, maxBatch: Int, logger: Logger?) {
        self.index = index
        self.connInfo = connInfo
        self.maxBatch = maxBatch
        self.logger = logger
    }

    func start() {
        Threads.start(name: "commit-lane-\(index)") { [self] in loop() }
    }

    func submit(_ job: Job) {
        cond.lock()
        queue.append(job)
        cond.signal()
        cond.unlock()
    }

    var queued: Int {
        cond.lock()
        defer { cond.unlock() }
        return queue.count
    }

    var stats: (batches: Int, commands: Int, fallbacks: Int) {
        cond.lock()
        defer { cond.unlock() }
        return counters
    }

    private func loop() {
        while true {
            cond.lock()
            while queue.isEmpty { cond.wait() }
            // Whatever queued while the previous batch ran forms the next one.
            let n = min(queue.count, maxBatch)
            let batch = Array(queue.prefix(n))
            queue.removeFirst(n)
            cond.unlock()
            runBatch(batch)
            for job in batch { job.done.signal() }
        }
    }

    private func connection() throws -> PGConnection {
        if let c = db, c.isHealthy { return c }
        db = nil
        let c = try PGConnection(connInfo)
        db = c
        return c
    }

    private func runBatch(_ batch: [Job]) {
        let tx: PGConnection
        do { tx = try connection() } catch {
            for job in batch { job.error = error }
            return
        }
        if batch.count == 1, let only = batch.first {
            runAlone(only, tx)
            count(batches: 1, commands: 1, fallbacks: 0)
            return
        }
        var committing = false
        do {
            try tx.execute("BEGIN")
            try LedgerTx(tx).lockAccounts(named: batch.compactMap(\.user))
            var log = AuditBuffer()
            for job in batch {
                if job.readsLog {
                    try log.flush(tx)
                    log = AuditBuffer()
                }
                try job.work(tx, &log)
            }
            try log.flush(tx)
            committing = true
            try tx.execute("COMMIT")
            count(batches: 1, commands: batch.count, fallbacks: 0)
        } catch {
            if committing {
                // COMMIT was sent: it may or may not have happened, so no command may be retried.
                try? tx.execute("ROLLBACK")
                for job in batch { job.error = error }
                logger?.warning(
                    "batch commit failed", error: error,
                    metadata: ["lane": .stringConvertible(index), "commands": .stringConvertible(batch.count)])
                return
            }
            try? tx.execute("ROLLBACK")
            // Nothing of the batch happened: every command runs again in its own transaction.
            for job in batch {
                do { runAlone(job, try connection()) } catch { job.error = error }
            }
            count(batches: batch.count, commands: batch.count, fallbacks: 1)
        }
    }

    /// One command in its own transaction (`CommitGroup.runAlone`).
    private func runAlone(_ job: Job, _ db: PGConnection) {
        do {
            job.error = nil
            try CommitGroup.runAlone(db, user: job.user, job.work)
        } catch {
            job.error = error
        }
    }

    private func count(batches: Int, commands: Int, fallbacks: Int) {
        cond.lock()
        counters.batches += batches
        counters.commands += commands
        counters.fallbacks += fallbacks
        cond.unlock()
    }
}
