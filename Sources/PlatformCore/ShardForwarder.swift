import ServiceCore

/// Hands a request to the engine shard that owns its stock, as the gateway would have sent it
/// (same method, target, identity headers, Idempotency-Key and body, with a fresh proof), and
/// passes the answer back unchanged. A forwarded request carries `x-engine-shard-hop`, and a
/// shard never forwards such a request again, so a disagreement about ownership cannot loop.
public struct ShardForwarder: Sendable {
    public static let hopHeader = "x-engine-shard-hop"
    static let passedHeaders = GatewayProof.signedHeaders + ["idempotency-key", "content-type"]

    public let map: ShardMap
    let client: HTTPClient
    /// Long enough for the owner's batch to commit (its statement timeout is 30 s).
    let timeoutMillis: Int

    public init(map: ShardMap, proof: GatewayProof?, timeoutMillis: Int = 35_000) {
        self.map = map
        client = proof.map { HTTPClient(signer: $0) } ?? HTTPClient()
        self.timeoutMillis = timeoutMillis
    }

    static func isForwarded(_ request: HTTPRequest) -> Bool { request.header(hopHeader) != nil }

    /// nil when this shard should answer itself (it owns the stock, the request was already
    /// forwarded once, or the owner is unknown: then the local engine gives the usual 404).
    func target(_ request: HTTPRequest, owner: Int?) -> Int? {
        guard map.isSharded, let owner, owner != map.index, !Self.isForwarded(request) else { return nil }
        return owner
    }

    /// The owner's answer; 503 when it cannot be reached (the breaker story of docs/sharding.md).
    func forward(_ request: HTTPRequest, to shard: Int) -> HTTPResponse {
        guard shard < map.peers.count else { return .error(503, "engine shard \(shard) is not configured") }
        var headers: [(String, String)] = [(Self.hopHeader, String(map.index))]
        for name in Self.passedHeaders { if let v = request.header(name) { headers.append((name, v)) } }
        let target = request.query.isEmpty ? request.path : request.path + "?" + request.query
        do {
            let r = try client.request(
                map.peers[shard], method: request.method, path: target, headers: headers, body: request.body,
                timeoutMillis: timeoutMillis)
            let type = r.header("content-type") ?? r.header("Content-Type") ?? "application/json"
            return HTTPResponse(status: r.status, headers: [("Content-Type", type)], body: r.body)
        } catch {
            // A POST may have reached the owner before the connection failed: the outcome is
            // unknown, exactly as when the gateway loses an engine connection.
            return .error(503, "engine shard \(shard) unavailable (\(error)): its stocks cannot trade until it is back")
        }
    }

    /// Every other shard's answer to an internal call (nil where a shard failed).
    func others(_ method: String, _ path: String, timeoutMillis: Int = 2_000) -> [(
        shard: Int, response: ClientResponse?
    )] {
        map.peers.indices.filter { $0 != map.index }.map { k in
            let r = try? client.request(
                map.peers[k], method: method, path: path, headers: [(Self.hopHeader, String(map.index))],
                timeoutMillis: timeoutMillis)
            return (k, r)
        }
    }
}
