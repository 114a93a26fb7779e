/// Which upstream group serves a path, and whether the path needs a token. Fixed by the contract:
/// /authentication/* → auth; /setup/*, /transaction/*, /engine/* → matching engine; the classic
/// commands by name → user-utilities, buy or sell.
public enum UpstreamGroup: String, Sendable, CaseIterable {
    case auth, engine, util, buy, sell
}

public struct RouteDecision: Sendable, Equatable {
    public let group: UpstreamGroup
    public let isPublic: Bool
}

public enum RouteTable {
    static let publicPaths: Set<String> = ["/authentication/register", "/authentication/login"]

    static let classic: [String: UpstreamGroup] = {
        var m: [String: UpstreamGroup] = [:]
        for c in ["ADD", "QUOTE", "DISPLAY_SUMMARY", "DUMPLOG", "RECENT_TRANSACTIONS"] { m[c] = .util }
        for c in ["BUY", "COMMIT_BUY", "CANCEL_BUY", "SET_BUY_AMOUNT", "SET_BUY_TRIGGER", "CANCEL_SET_BUY"] { m[c] = .buy }
        for c in ["SELL", "COMMIT_SELL", "CANCEL_SELL", "SET_SELL_AMOUNT", "SET_SELL_TRIGGER", "CANCEL_SET_SELL"] { m[c] = .sell }
        return m
    }()

    /// Nil for a path no upstream serves (answered 404 before any token check).
    public static func decide(_ path: String) -> RouteDecision? {
        if path.hasPrefix("/authentication/") {
            return RouteDecision(group: .auth, isPublic: publicPaths.contains(path))
        }
        if path.hasPrefix("/setup/") || path.hasPrefix("/transaction/") || path.hasPrefix("/engine/") {
            return RouteDecision(group: .engine, isPublic: false)
        }
        if path.hasPrefix("/classic/"), let group = classic[String(path.dropFirst("/classic/".count))] {
            return RouteDecision(group: group, isPublic: false)
        }
        return nil
    }
}
