/// Which upstream group serves a path, and whether the path needs a token. The table itself
/// (prefixes, classic command names, public paths) is generated from deploy/topology.json into
/// Routes.generated.swift, the same definition nginx's proxied location is checked against.
/// Token-free: register, login, and the engine's event stream (a browser's EventSource cannot
/// send the token header; the engine checks the stream ticket in its query, and the per-IP
/// bucket still applies here).
public struct RouteDecision: Sendable, Equatable {
    public let group: UpstreamGroup
    public let isPublic: Bool
}

public enum RouteTable {
    /// Nil for a path no upstream serves (answered 404 before any token check).
    public static func decide(_ path: String) -> RouteDecision? {
        if path.hasPrefix(classicPrefix) {
            guard let group = classic[String(path.dropFirst(classicPrefix.count))] else { return nil }
            return RouteDecision(group: group, isPublic: false)
        }
        for route in prefixes where path.hasPrefix(route.prefix) {
            return RouteDecision(group: route.group, isPublic: publicPaths.contains(path))
        }
        return nil
    }
}
