import Dispatch
import ServiceCore

/// `auth --bench-hash [iterations ...]`: time one PBKDF2 hash at the given costs (default: the
/// service default), single-threaded, and the throughput of all cores hashing at once.
enum HashBench {
    static func run(_ counts: [Int]) {
        for iterations in counts {
            let hasher = PasswordHasher(iterations: iterations)
            for _ in 0..<20 { _ = hasher.hash("warm-up-password") }
            let n = 400
            let start = Clock.monotonicNanos()
            for i in 0..<n { _ = hasher.hash("bench-password-\(i)") }
            let perHashMs = Double(Clock.monotonicNanos() - start) / 1e6 / Double(n)

            let threads = ProcessEnvironment.activeProcessorCount
            let group = DispatchGroup()
            let parallelStart = Clock.monotonicNanos()
            for t in 0..<threads {
                group.enter()
                Threads.start(name: "hash-bench-\(t)") {
                    for i in 0..<n { _ = hasher.hash("bench-\(t)-\(i)") }
                    group.leave()
                }
            }
            group.wait()
            let seconds = Double(Clock.monotonicNanos() - parallelStart) / 1e9
            print(
                "pbkdf2-sha256 iterations=\(iterations): \(threeDecimals(perHashMs)) ms/hash on one thread; "
                    + "\(Int(Double(threads * n) / seconds)) hashes/s on \(threads) threads")
        }
    }

    /// "0.123" (FoundationEssentials has no String(format:)).
    static func threeDecimals(_ x: Double) -> String {
        let thousandths = Int((x * 1000).rounded())
        let frac = String(thousandths % 1000)
        return "\(thousandths / 1000)." + String(repeating: "0", count: 3 - frac.count) + frac
    }
}
