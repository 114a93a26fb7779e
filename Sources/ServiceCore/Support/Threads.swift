import CShim
import Glibc

/// Threads and a condition variable on pthreads directly, so that no service needs Foundation's
/// `Thread`/`NSCondition`: linking Foundation maps libFoundation, FoundationInternationalization and
/// ICU into every process, ~6 MB of each service's idle RSS (BENCHMARKS.md, "Memory (VmRSS").
public enum Threads {
    /// Starts a detached thread running `body`. `name` shows in `top -H`/`/proc/<pid>/task/*/comm`
    /// (cut to the kernel's 15 bytes); `stackSize` nil keeps the pthread default (RLIMIT_STACK).
    public static func start(name: String, stackSize: Int? = nil, _ body: @escaping @Sendable () -> Void) {
        var attr = pthread_attr_t()
        pthread_attr_init(&attr)
        defer { pthread_attr_destroy(&attr) }
        pthread_attr_setdetachstate(&attr, Int32(PTHREAD_CREATE_DETACHED))
        if let stackSize { pthread_attr_setstacksize(&attr, max(stackSize, Int(PTHREAD_STACK_MIN))) }
        let box = Unmanaged.passRetained(ThreadBody(name: name, body: body)).toOpaque()
        var tid = pthread_t()
        let rc = pthread_create(
            &tid, &attr,
            { raw in
                guard let raw else { return nil }
                let job = Unmanaged<ThreadBody>.fromOpaque(raw).takeRetainedValue()
                cshim_set_thread_name(job.name)
                job.body()
                return nil
            }, box)
        // Only EAGAIN (out of threads/memory) fails here; a service without its threads cannot run.
        if rc != 0 {
            Unmanaged<ThreadBody>.fromOpaque(box).release()
            fatalError("pthread_create(\(name)) failed: \(rc)")
        }
    }

    /// Sleeps the calling thread.
    public static func sleep(milliseconds: Int) {
        usleep(UInt32(max(0, milliseconds)) * 1000)
    }
}

private final class ThreadBody {
    let name: String
    let body: @Sendable () -> Void
    init(name: String, body: @escaping @Sendable () -> Void) {
        self.name = name
        self.body = body
    }
}

/// A mutex with one condition variable (what `NSCondition` offered): `lock`, `wait` (with the lock
/// held), `signal`/`broadcast`, `unlock`.
public final class ThreadCondition: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    public init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(cond, nil)
    }

    deinit {
        pthread_cond_destroy(cond)
        pthread_mutex_destroy(mutex)
        cond.deallocate()
        mutex.deallocate()
    }

    public func lock() { pthread_mutex_lock(mutex) }
    public func unlock() { pthread_mutex_unlock(mutex) }
    /// Releases the lock while waiting; holds it again on return (spurious wake-ups possible: loop).
    public func wait() { pthread_cond_wait(cond, mutex) }
    /// `wait()` for at most `millis` ms (by the wall clock, which is all pthread's default condition
    /// offers: a clock step makes one wait shorter or longer, which callers here tolerate).
    public func wait(millis: UInt64) {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        let nanos = UInt64(ts.tv_nsec) + (millis % 1000) * 1_000_000
        ts.tv_sec += Int(millis / 1000) + Int(nanos / 1_000_000_000)
        ts.tv_nsec = Int(nanos % 1_000_000_000)
        pthread_cond_timedwait(cond, mutex, &ts)
    }
    public func signal() { pthread_cond_signal(cond) }
    public func broadcast() { pthread_cond_broadcast(cond) }
}
