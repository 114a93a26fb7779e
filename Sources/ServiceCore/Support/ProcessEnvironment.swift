import CShim
import Glibc

/// What services used Foundation's `ProcessInfo` for, without linking Foundation(Essentials): it
/// maps another ~3 MB into every service's RSS (BENCHMARKS.md, "Memory (VmRSS").
public enum ProcessEnvironment {
    /// The environment as "NAME=value" pairs at the time of the call (the first of a repeated name wins).
    public static var variables: [String: String] {
        var out: [String: String] = [:]
        var p = environ
        while let entry = p.pointee {
            let pair = String(cString: entry)
            if let eq = pair.utf8.firstIndex(of: UInt8(ascii: "=")) {
                let name = String(pair[..<eq])
                if out[name] == nil { out[name] = String(pair[pair.index(after: eq)...]) }
            }
            p += 1
        }
        return out
    }

    /// CPUs this process may run on (its affinity mask, as `nproc` counts), at least 1.
    public static var activeProcessorCount: Int { max(1, Int(cshim_active_cpus())) }

    public static var processID: Int32 { getpid() }
}
