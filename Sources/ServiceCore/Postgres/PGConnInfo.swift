import CLibPQ

/// Connection settings every service gets unless DT_PG sets them itself. They make a dead or
/// demoted server cost seconds, not minutes, and let a multi-host DT_PG
/// (`host=a,b,c port=p1,p2,p3`) find whichever node is the primary now, so a promoted standby
/// needs no config change.
public enum PGConnInfo {
    public static let defaults: [(key: String, value: String)] = [
        // Per host tried: a machine that is gone (no RST) must not hold a request for the TCP
        // default of ~2 minutes. libpq's minimum is 2 s.
        ("connect_timeout", "2"),
        // Skip standbys (and a node still in recovery after promotion started).
        ("target_session_attrs", "read-write"),
        // A server that vanished mid-query (power, network) is noticed in ~11 s by keepalives,
        // and unacknowledged sends give up after 10 s, instead of the kernel's 2 hours.
        ("keepalives", "1"), ("keepalives_idle", "5"), ("keepalives_interval", "2"), ("keepalives_count", "3"),
        ("tcp_user_timeout", "10000"),
        // Every statement here is a key lookup whose best plan does not depend on its values, so
        // a prepared statement's first (generic) plan is kept. In `auto` mode PostgreSQL planned
        // again on every call the statements where a NULL parameter folds a branch away (the
        // classic precheck) or an array's length moves the estimate (the batch's account lock):
        // 12 % of its CPU on the 100-user replay went to the planner (perf), none with this.
        ("options", "-cplan_cache_mode=force_generic_plan"),
    ]

    /// `base` plus every default whose key `base` does not set. A conninfo libpq cannot parse is
    /// returned unchanged (connecting with it reports the error).
    public static func withDefaults(_ base: String) -> String {
        let given = keys(of: base)
        guard !given.isEmpty else { return base }
        var out = base
        for (key, value) in defaults where !given.contains(key) { out += " \(key)=\(value)" }
        return out
    }

    /// Keys set in a `key=value` conninfo, read by libpq's own parser; empty if it does not parse.
    public static func keys(of conninfo: String) -> Set<String> {
        Set((settings(of: conninfo) ?? []).map(\.key))
    }

    /// The settings a conninfo gives, in libpq's keyword order, read by libpq's own parser; nil if
    /// it does not parse.
    static func settings(of conninfo: String) -> [(key: String, value: String)]? {
        var err: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(conninfo, &err) else {
            if let err { PQfreemem(err) }
            return nil
        }
        defer { PQconninfoFree(options) }
        var out: [(key: String, value: String)] = []
        var p = options
        while let k = p.pointee.keyword {
            if let v = p.pointee.val { out.append((String(cString: k), String(cString: v))) }
            p += 1
        }
        return out
    }
}

extension ServiceConfig {
    /// DT_PG (one host, or `host=a,b port=p,q` for a primary and its standbys) with the defaults
    /// above, plus the password from DT_PG_PASSWORD (kept apart so deployments hold it as a secret).
    public var postgresConnInfo: String {
        let base = PGConnInfo.withDefaults(
            string("DT_PG", default: "host=127.0.0.1 port=5432 dbname=daytrade user=daytrade"))
        guard let password = secret("DT_PG_PASSWORD") else { return base }
        return base + " password=" + Self.conninfoQuoted(password)
    }
}
