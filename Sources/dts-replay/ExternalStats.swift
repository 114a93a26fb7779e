import ServiceCore

/// Counters read from the services around a run (each optional: a missing service gives n/a).
enum ExternalStats {
    /// Quote-server hits so far (its GET /stats).
    static func quoteHits(_ url: BaseURL?, signer: GatewayProof?) -> Int? {
        guard let url, let json = get(url, "/stats", signer) else { return nil }
        return json["hits"]?.int64Value.map(Int.init)
    }

    /// Quote-cache (hits, misses) from user-utilities' GET /classic-stats: cache hits vs real quote
    /// hits. Other shapes are read by name (key paths mentioning "hit" / "miss").
    static func cacheCounts(_ url: BaseURL?, signer: GatewayProof?) -> (hits: Int, misses: Int)? {
        guard let url, let json = get(url, "/classic-stats", signer) else { return nil }
        // user-utilities: {"success":true,"data":{"quoteHits":n,"cacheHits":n,"cacheHitRatio":x}}
        let data = json["data"] ?? json
        if let real = data["quoteHits"]?.int64Value, let cached = data["cacheHits"]?.int64Value {
            return (Int(cached), Int(real))
        }
        var numbers: [(path: String, value: Int)] = []
        flatten(json, "", &numbers)
        func pick(_ word: String) -> Int? {
            let candidates = numbers.filter {
                $0.path.contains(word) && !$0.path.contains("ratio") && !$0.path.contains("rate")
            }
            let preferred =
                candidates.first { $0.path.contains("quote") || $0.path.contains("cache") } ?? candidates.first
            return preferred?.value
        }
        guard let h = pick("hit"), let m = pick("miss") else { return nil }
        return (h, m)
    }

    private static func flatten(_ j: JSON, _ path: String, _ out: inout [(path: String, value: Int)]) {
        switch j {
        case .object(let pairs): for (k, v) in pairs { flatten(v, path + "." + k.lowercased(), &out) }
        case .number: if let v = j.int64Value { out.append((path, Int(v))) }
        default: break
        }
    }

    /// Services answer only signed requests (GatewayProof); without a key this gives n/a.
    private static func get(_ url: BaseURL, _ path: String, _ signer: GatewayProof?) -> JSON? {
        guard
            let r = try? HTTPClient(signer: signer).request(
                url.endpoint, method: "GET", path: url.path(path), timeoutMillis: 2000),
            r.status == 200
        else { return nil }
        return try? r.json()
    }
}
