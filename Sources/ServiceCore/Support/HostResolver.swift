import Glibc
import Synchronization

/// A host name's numeric address, looked up on a background thread: a DNS lookup can take
/// seconds, and an event loop that connects by name (e.g. `redis:6379` in the compose and k8s
/// configs) must never wait for one. `address()` answers at once with the last result, or nil
/// while a lookup runs (the caller treats that as "not reachable yet").
public final class HostResolver: Sendable {
    public let host: String
    private let numeric: Bool
    private let state: Mutex<(address: String?, looking: Bool)>

    public init(_ host: String) {
        self.host = host
        numeric = HostResolver.isNumeric(host)
        state = Mutex((numeric ? host : nil, false))
    }

    /// The numeric address, or nil while it is being looked up (a lookup starts if none runs).
    public func address() -> String? {
        let (known, start) = state.withLock { s -> (String?, Bool) in
            if s.address != nil || s.looking { return (s.address, false) }
            s.looking = true
            return (nil, true)
        }
        if start {
            let host = self.host
            Threads.start(name: "host-resolver") { [self] in
                let found = HostResolver.lookUp(host)
                state.withLock { $0 = (found, false) }
            }
        }
        return known
    }

    /// Forgets a looked-up address (a connect to it failed: the name may point elsewhere now).
    public func invalidate() {
        guard !numeric else { return }
        state.withLock { if !$0.looking { $0.address = nil } }
    }

    static func isNumeric(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        // A Unix-domain socket's path needs no lookup either.
        return host.hasPrefix("/") || inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }

    /// The first address getaddrinfo gives (as the blocking connect helpers use), as text.
    static func lookUp(_ host: String) -> String? {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &list) == 0, let first = list else { return nil }
        defer { freeaddrinfo(list) }
        var text = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        guard
            getnameinfo(
                first.pointee.ai_addr, first.pointee.ai_addrlen, &text, socklen_t(text.count), nil, 0, NI_NUMERICHOST)
                == 0
        else {
            return nil
        }
        return text.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}
