import Glibc
import ServiceCore
import Synchronization

/// The simulator's state shared by the HTTP handlers and the TCP threads: price walks, signer,
/// artificial latency (adjustable at run time through POST /control) and hit counters.
final class QuoteDesk: Sendable {
    let walk: PriceWalk
    let signer: QuoteSigner
    let seeded: Bool
    private let delayMillis: Atomic<Int>
    let httpHits = Atomic<Int>(0)
    let tcpHits = Atomic<Int>(0)
    let badRequests = Atomic<Int>(0)

    init(seed: UInt64?, secret: String?, delayMillis: Int) {
        seeded = seed != nil
        walk = PriceWalk(seed: seed ?? UInt64.random(in: 0...UInt64.max))
        signer = QuoteSigner.make(seed: seed, explicitSecret: secret)
        self.delayMillis = Atomic(max(0, delayMillis))
    }

    var delay: Int {
        delayMillis.load(ordering: .relaxed)
    }

    func setDelay(_ ms: Int) { delayMillis.store(max(0, min(ms, 60_000)), ordering: .relaxed) }

    /// Sleeps the configured latency on the calling (worker or TCP) thread; other requests are
    /// served by other threads meanwhile.
    func simulateLatency() {
        let ms = delay
        if ms > 0 { usleep(UInt32(ms) * 1000) }
    }

    /// A real quote: advances the symbol's walk and signs the answer.
    func quote(symbol: String, user: String) -> Quote {
        let cents = walk.next(symbol: symbol)
        let ts = Clock.wallMillis()
        let price = Money.format(cents)
        return Quote(
            priceCents: cents, symbol: symbol, user: user, timestamp: ts,
            cryptokey: signer.cryptokey(price: price, symbol: symbol, user: user, timestamp: ts))
    }

    /// The legacy answer to unusable input: price 0.00 and user NA, still signed.
    func badQuote(echoSymbol: String) -> Quote {
        let ts = Clock.wallMillis()
        return Quote(
            priceCents: 0, symbol: echoSymbol, user: "NA", timestamp: ts,
            cryptokey: signer.cryptokey(price: "0.00", symbol: echoSymbol, user: "NA", timestamp: ts))
    }

    var statsJSON: JSON {
        let http = httpHits.load(ordering: .relaxed)
        let tcp = tcpHits.load(ordering: .relaxed)
        return .object([
            ("hits", .int(http + tcp)), ("httpHits", .int(http)), ("tcpHits", .int(tcp)),
            ("badRequests", .int(badRequests.load(ordering: .relaxed))),
            ("symbols", .int(walk.symbolCount)), ("delayMs", .int(delay)), ("seeded", .bool(seeded)),
        ])
    }
}
