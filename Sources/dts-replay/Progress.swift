import Foundation
import ServiceCore
import Synchronization

/// Live progress on stderr: a redrawn bar on a terminal, a plain line every few seconds otherwise
/// (so CI logs stay readable).
final class Progress: @unchecked Sendable {
    private let total: Int
    private let live: LiveCounters
    private let tty: Bool
    private let stopFlag = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    private let startedAt = Clock.monotonicNanos()

    init(total: Int, live: LiveCounters, tty: Bool) {
        self.total = total
        self.live = live
        self.tty = tty
    }

    func start() {
        let t = Thread { [self] in
            var lastLine = Clock.monotonicNanos()
            while !stopFlag.load(ordering: .relaxed) {
                usleep(tty ? 200_000 : 250_000)
                let now = Clock.monotonicNanos()
                if tty {
                    draw(final: false)
                } else if now - lastLine >= 5_000_000_000 {
                    lastLine = now
                    Progress.err(line() + "\n")
                }
            }
            finished.signal()
        }
        t.name = "progress"
        t.start()
    }

    func stop() {
        stopFlag.store(true, ordering: .relaxed)
        finished.wait()
        if tty { draw(final: true) } else { Progress.err(line() + "\n") }
    }

    private func draw(final: Bool) {
        let width = 30
        let done = live.done.load(ordering: .relaxed)
        let filled = total > 0 ? min(width, done * width / total) : width
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        Progress.err("\r\u{1B}[K[\(bar)] " + line() + (final ? "\n" : ""))
    }

    private func line() -> String {
        let done = live.done.load(ordering: .relaxed)
        let secs = Double(Clock.monotonicNanos() - startedAt) / 1e9
        let rate = secs > 0 ? Double(done) / secs : 0
        let pct = total > 0 ? Double(done) * 100 / Double(total) : 100
        var s = "\(done)/\(total) \(String(format: "%.1f", pct))%  \(String(format: "%.0f", rate)) cmd/s"
        s +=
            "  errors: \(live.commandErrors.load(ordering: .relaxed)) command, \(live.transportErrors.load(ordering: .relaxed)) transport"
        s += "  \(Progress.clock(secs))"
        if rate > 0 && done < total { s += " ETA \(Progress.clock(Double(total - done) / rate))" }
        return s
    }

    static func clock(_ secs: Double) -> String {
        let s = Int(secs.rounded())
        return s >= 3600
            ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }

    static func err(_ s: String) {
        let bytes = Array(s.utf8)
        _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }
}
