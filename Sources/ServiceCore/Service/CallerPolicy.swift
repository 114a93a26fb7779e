/// Who may call a service's HTTP port. Loopback is not a trust boundary: anything on the host can
/// connect, so identity headers count only with the gateway's proof (`GatewayProof`).
public enum CallerPolicy: Sendable {
    /// Behind the gateway: every request except `GET /health` must carry a valid proof.
    case gatewayOnly
    /// The public edge (the gateway): its routes are open, only the listed path prefixes
    /// (its own status and /metrics) need the proof.
    case publicExcept([String])
    /// No identity, no data, no secrets (the `hello` benchmark service): nothing is checked.
    case anyone

    var needsKey: Bool {
        if case .anyone = self { return false }
        return true
    }
}

/// Applies a policy to each request before routing; nil means "let it through".
struct CallerGate: Sendable {
    let policy: CallerPolicy
    let proof: GatewayProof

    func refusal(_ request: HTTPRequest) -> HTTPResponse? {
        guard needsProof(request) else { return nil }
        let verdict = proof.verify(request)
        if verdict == .valid { return nil }
        return .error(401, "unauthorized caller: " + verdict.reason)
    }

    private func needsProof(_ request: HTTPRequest) -> Bool {
        if request.path == "/health" && (request.method == "GET" || request.method == "HEAD") { return false }
        switch policy {
        case .gatewayOnly: return true
        case .publicExcept(let prefixes): return prefixes.contains { request.path.hasPrefix($0) }
        case .anyone: return false
        }
    }
}
