import Foundation
import ServiceCore
import Synchronization

/// Runs a workload: `concurrency` threads each take the next user stream and play it in order;
/// whole-system DUMPLOGs follow once every stream is done.
final class ReplayRunner: @unchecked Sendable {
    let options: ReplayOptions
    let workload: Workload
    let live = LiveCounters()
    private let next = Atomic<Int>(0)
    /// Second 0 of the run's timeline (every thread's recorder shares it).
    private let origin = Clock.monotonicNanos()
    private let merged: Mutex<Tally>
    private let messages = Mutex<[String]>([])
    private let dumps = Mutex<[(name: String, path: String, bytes: Int)]>([])

    init(options: ReplayOptions, workload: Workload) {
        self.options = options
        self.workload = workload
        merged = Mutex(Tally(originNanos: origin))
    }

    struct Result {
        var tally: Tally
        var seconds: Double
        var dumps: [(name: String, path: String, bytes: Int)]
        var notes: [String]
    }

    func run() -> Result {
        let start = Clock.monotonicNanos()
        let threads = min(options.concurrency, max(1, workload.streams.count))
        let group = DispatchGroup()
        for i in 0..<threads {
            group.enter()
            let t = Thread { [self] in
                var tally = Tally(originNanos: origin)
                while !live.abort.load(ordering: .relaxed) {
                    let idx = next.add(1, ordering: .relaxed).oldValue
                    guard idx < workload.streams.count else { break }
                    play(workload.streams[idx].user, workload.streams[idx].commands, &tally)
                }
                let mine = tally
                merged.withLock { $0.merge(mine) }
                group.leave()
            }
            t.name = "stream-\(i)"
            t.stackSize = 512 * 1024
            t.start()
        }
        group.wait()
        var finalTally = Tally(originNanos: origin)
        if !workload.finalDumps.isEmpty && !live.abort.load(ordering: .relaxed) {
            playSystemDumps(&finalTally)
        }
        merged.withLock { $0.merge(finalTally) }
        let seconds = Double(Clock.monotonicNanos() - start) / 1e9
        return Result(
            tally: merged.withLock { $0 }, seconds: seconds, dumps: dumps.withLock { $0 },
            notes: messages.withLock { $0 })
    }

    private func note(_ s: String) { messages.withLock { if $0.count < 50 { $0.append(s) } } }

    private func record(_ outcome: Outcome, _ label: String, startNanos: UInt64, endNanos: UInt64, _ tally: inout Tally)
    {
        let error: String?
        switch outcome {
        case .ok: error = nil
        case .commandError(let code): error = code
        case .transportError(let kind): error = kind
        }
        tally.recorder.record(label, startNanos: startNanos, endNanos: endNanos, error: error)
        switch outcome {
        case .ok: tally.ok += 1
        case .commandError(let code):
            tally.commandErrors[code, default: 0] += 1
            live.commandErrors.add(1, ordering: .relaxed)
        case .transportError(let kind):
            tally.transportErrors[kind, default: 0] += 1
            if live.transportErrors.add(1, ordering: .relaxed).newValue >= options.abortAfter {
                if !live.abort.exchange(true, ordering: .relaxed) {
                    note("stopping: \(options.abortAfter) transport errors (last: \(kind))")
                }
            }
        }
        live.done.add(1, ordering: .relaxed)
    }

    /// Commands that never went out (login failed, aborted run) count as transport errors.
    private func skip(_ n: Int, kind: String, _ tally: inout Tally) {
        guard n > 0 else { return }
        tally.transportErrors[kind, default: 0] += n
        live.transportErrors.add(n, ordering: .relaxed)
        live.done.add(n, ordering: .relaxed)
    }

    private func play(_ user: String, _ commands: [WorkloadCommand], _ tally: inout Tally) {
        var session = ClassicSession(
            base: options.url, user: user,
            password: ClassicSession.password(for: user, salt: options.passwordSalt),
            timeoutMillis: options.timeoutMillis)
        do {
            try session.open(register: true, tally: &tally)
        } catch {
            note("\(error)")
            skip(commands.count, kind: "login failed", &tally)
            return
        }
        for (i, cmd) in commands.enumerated() {
            if live.abort.load(ordering: .relaxed) {
                skip(commands.count - i, kind: "not sent (aborted)", &tally)
                return
            }
            execute(cmd, &session, &tally)
        }
    }

    private func execute(_ cmd: WorkloadCommand, _ session: inout ClassicSession, _ tally: inout Tally) {
        guard
            cmd.name.utf8.allSatisfy({
                ($0 >= 0x41 && $0 <= 0x5A) || $0 == UInt8(ascii: "_") || ($0 >= 0x30 && $0 <= 0x39)
            })
        else {
            let now = Clock.monotonicNanos()
            record(.commandError("UNSENDABLE_COMMAND"), "?", startNanos: now, endNanos: now, &tally)
            return
        }
        var dumpFile: String? = nil
        if cmd.name == "DUMPLOG" {
            do { dumpFile = try ReplayRunner.prepareOutput(options.outDir, cmd.filename) } catch {
                note("DUMPLOG \(cmd.filename): \(error)")
            }
        }
        let t0 = Clock.monotonicNanos()
        let outcome = session.send(cmd, dumpFile: dumpFile, tally: &tally)
        let t1 = Clock.monotonicNanos()
        if case .commandError = outcome, let dumpFile { try? FileManager.default.removeItem(atPath: dumpFile) }
        if case .ok = outcome, let dumpFile {
            let size = (try? FileManager.default.attributesOfItem(atPath: dumpFile)[.size] as? Int) ?? 0
            dumps.withLock {
                $0.append((cmd.user.isEmpty ? cmd.filename : "\(cmd.user) \(cmd.filename)", dumpFile, size))
            }
        }
        if case .transportError(let kind) = outcome {
            note("\(cmd.user) \(cmd.name) [\(cmd.txn)]: \(kind)")
        }
        record(outcome, cmd.name, startNanos: t0, endNanos: t1, &tally)
    }

    private func playSystemDumps(_ tally: inout Tally) {
        guard let password = options.adminPassword else {
            note("no admin password; set --admin-password, DT_ADMIN_PASSWORD or STATE_DIR")
            skip(workload.finalDumps.count, kind: "no admin password", &tally)
            return
        }
        var admin = ClassicSession(
            base: options.url, user: options.adminUser, password: password, timeoutMillis: options.timeoutMillis)
        do {
            try admin.open(register: false, tally: &tally)
        } catch {
            note("admin login failed (\(error)); set --admin-password, DT_ADMIN_PASSWORD or STATE_DIR")
            skip(workload.finalDumps.count, kind: "admin login failed", &tally)
            return
        }
        if let dumpURL = options.dumpURL {
            do { admin = try admin.direct(to: dumpURL, signer: options.internalProof) } catch {
                note("\(error)")
                skip(workload.finalDumps.count, kind: "admin token unreadable", &tally)
                return
            }
        }
        for cmd in workload.finalDumps { execute(cmd, &admin, &tally) }
    }

    /// `./testLOG` → `<out>/testLOG`; never leaves the output folder.
    static func prepareOutput(_ outDir: String, _ filename: String) throws -> String {
        let parts = filename.split(separator: "/").filter { $0 != "." && $0 != ".." && !$0.isEmpty }
        let rel = parts.isEmpty ? "dumplog.xml" : parts.joined(separator: "/")
        let full = (outDir as NSString).appendingPathComponent(rel)
        try FileManager.default.createDirectory(
            atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        return full
    }
}
