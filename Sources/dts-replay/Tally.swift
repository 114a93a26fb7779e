import LoadReport
import Synchronization

/// Counters the progress bar reads while streams run.
final class LiveCounters: Sendable {
    let done = Atomic<Int>(0)
    let commandErrors = Atomic<Int>(0)
    let transportErrors = Atomic<Int>(0)
    let retries = Atomic<Int>(0)
    let abort = Atomic<Bool>(false)
}

/// What one stream thread saw; merged once the thread ends (no sharing on the hot path).
struct Tally {
    /// Latency by command name and by second (for the summary and the HTML report).
    var recorder: Recorder
    var commandErrors: [String: Int] = [:]
    var transportErrors: [String: Int] = [:]
    var ok = 0
    var retried429 = 0
    var retried503 = 0
    var retriedConnect = 0

    init(originNanos: UInt64) { recorder = Recorder(originNanos: originNanos) }

    mutating func merge(_ o: Tally) {
        recorder.merge(o.recorder)
        for (k, v) in o.commandErrors { commandErrors[k, default: 0] += v }
        for (k, v) in o.transportErrors { transportErrors[k, default: 0] += v }
        ok += o.ok
        retried429 += o.retried429
        retried503 += o.retried503
        retriedConnect += o.retriedConnect
    }
}

/// Result of one command as the replay classifies it.
enum Outcome {
    case ok
    /// The server answered with an error code (spec §10.10), or a 4xx without one: counted, not fatal.
    case commandError(String)
    /// Connection failures, timeouts, 5xx without a code: the run exits non-zero.
    case transportError(String)
}
