/// Entry points for the micro-benchmarks in Benchmarks/Micro, a separate package that cannot see
/// this package's `package` symbols. SPI keeps them out of the services' ordinary API.
@_spi(Benchmarks) public enum BenchmarkProbes {
    /// Parses one request head with the server's limits: its length, or −status on a refusal, 0 if incomplete.
    public static func parseHead(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        switch HTTPParser.parseHead(bytes, limits: HTTPLimits()) {
        case .head(_, let headLength, _): return headLength
        case .failure(let status, _): return -status
        case .incomplete, .blank: return 0
        }
    }

    /// The request metrics as a server keeps them, `shards` event loops wide.
    public static func metrics(shards: Int) -> Metrics { Metrics(shards: shards) }

    /// A route's metrics label, made once per route as the router does.
    public struct Label: Sendable {
        let label: MetricsLabel
        public init(_ name: String) { label = MetricsLabel(name) }
    }

    /// What every request costs in metrics: one count and one duration for its route and status.
    public static func record(_ metrics: Metrics, shard: Int, route: Label, status: Int, seconds: Double) {
        metrics.record(shard: shard, route: route.label, status: status, seconds: seconds)
    }
}
