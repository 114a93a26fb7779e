import CShim

/// glibc gives a thread that finds every malloc arena locked a new arena of its own, up to 8 per
/// core, and each arena keeps what it grew to. With a pool of 48–64 worker threads, a large
/// transient allocation (a whole-system DUMPLOG's 5,000-row pages) lands in whichever arena its
/// worker holds, so each arena in turn grows by its size: user-utilities' RSS rose ~3.9 MB per
/// 40 MB DUMPLOG (18.9 → 42.2 MB after six) while the memory in use stayed ~7 MB. Capped at one
/// arena per core it levels off (25.5 MB after the same six). BENCHMARKS.md, "Memory per service".
public enum MallocArenas {
    /// Caps the arenas (before the service starts its threads); MALLOC_ARENA_MAX in the
    /// environment, if set, wins.
    public static func limit(to arenas: Int) { cshim_limit_malloc_arenas(Int32(arenas)) }

    /// Gives the free pages of every arena back to the kernel (`malloc_trim(0)`): what a burst
    /// grew and then freed stays mapped otherwise. Walks all arenas: call it when the process has
    /// gone quiet, not per request.
    public static func trim() { cshim_malloc_trim() }
}
