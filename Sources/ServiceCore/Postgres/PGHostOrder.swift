import CLibPQ
import Synchronization

/// With a multi-host conninfo (`host=a,b,c port=…`), libpq tries the hosts in the order given,
/// each for up to `connect_timeout` plus its own name lookup, and keeps the first that takes
/// writes. After a failover the first host is usually the dead old primary, so without this
/// every new connection of the process would pay for it again (seconds each in containers, where
/// a fenced node's name no longer resolves). This remembers, per conninfo, which host last gave
/// a read-write session and tries it first; the others follow in their given order, so a later
/// failover is found the same way.
enum PGHostOrder {
    /// conninfo → index (in its own host list) of the host that last took a connection.
    private static let lastGood = Mutex<[String: Int]>([:])

    /// Opens a connection to `connInfo`, trying the remembered host first. The result is
    /// PQconnectdb's: check PQstatus.
    static func connect(_ connInfo: String) -> OpaquePointer? {
        guard var options = Options(connInfo), options.hostCount > 1 else { return PQconnectdb(connInfo) }
        let first = lastGood.withLock { $0[connInfo] } ?? 0
        options.tryFirst(first)
        let conn = options.connect()
        if let c = conn, PQstatus(c) == CONNECTION_OK, let index = options.originalIndex(of: c) {
            lastGood.withLock { $0[connInfo] = index }
        }
        return conn
    }

    /// The order the next connection to `connInfo` tries its hosts in (indices in its host list).
    static func order(_ connInfo: String) -> [Int] {
        guard var options = Options(connInfo) else { return [] }
        options.tryFirst(lastGood.withLock { $0[connInfo] } ?? 0)
        return options.order
    }

    /// A parsed conninfo whose comma-separated `host`, `hostaddr` and `port` lists can be
    /// reordered together (a single port applies to every host and stays as it is).
    struct Options {
        private var keywords: [String]
        private var values: [String]
        private let hosts: [Substring]
        private let ports: [Substring]
        /// order[k] = index in the original lists of the host tried k-th.
        private(set) var order: [Int]

        var hostCount: Int { hosts.count }

        init?(_ connInfo: String) {
            guard let settings = PGConnInfo.settings(of: connInfo) else { return nil }
            let keywords = settings.map(\.key)
            let values = settings.map(\.value)
            func list(_ key: String) -> [Substring] {
                guard let i = keywords.firstIndex(of: key) else { return [] }
                return values[i].split(separator: ",", omittingEmptySubsequences: false)
            }
            self.keywords = keywords
            self.values = values
            hosts = list("host")
            ports = list("port")
            order = Array(hosts.indices)
        }

        /// Puts host `index` (of the original list) first, the rest after it in their order.
        mutating func tryFirst(_ index: Int) {
            guard hosts.indices.contains(index) else { return }
            order = [index] + hosts.indices.filter { $0 != index }
            for key in ["host", "hostaddr", "port"] {
                guard let i = keywords.firstIndex(of: key) else { continue }
                let items = values[i].split(separator: ",", omittingEmptySubsequences: false)
                guard items.count == hosts.count else { continue }
                values[i] = order.map { String(items[$0]) }.joined(separator: ",")
            }
        }

        func connect() -> OpaquePointer? {
            withCStrings(keywords + [nil]) { k in withCStrings(values + [nil]) { v in PQconnectdbParams(k, v, 0) } }
        }

        /// Index in the original host list of the host `conn` reached (host and port both match
        /// when the list names several ports, as a local primary and standbys on one address do).
        func originalIndex(of conn: OpaquePointer) -> Int? {
            guard let h = PQhost(conn) else { return nil }
            let host = String(cString: h)
            let port = PQport(conn).map { String(cString: $0) }
            return hosts.indices.first { i in
                hosts[i] == host && (ports.count != hosts.count || port == String(ports[i]))
            }
        }
    }
}
