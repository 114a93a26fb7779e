import Testing

@testable import OrderBook

@Suite("Order id index")
struct OrderIndexTests {
    /// Random inserts and deletes (backward-shift deletion is the delicate part) checked against
    /// a Dictionary, with keys from a small range so probe runs collide and wrap around.
    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
    func agreesWithDictionary(seed: UInt64) {
        var rng = SeededRNG(seed: seed)
        var index = OrderIndex(minimumCapacity: 4)
        var model: [Int64: Int32] = [:]
        for step in 0..<50_000 {
            let key = Int64.random(in: -300...300, using: &rng) &* 1_000_003
            if model[key] == nil && Int.random(in: 0..<3, using: &rng) > 0 {
                let slot = Int32(step % 1_000_000)
                index.insert(key, slot: slot)
                model[key] = slot
            } else {
                #expect(index.remove(key) == model.removeValue(forKey: key))
            }
            if step % 97 == 0 {
                for (k, v) in model { #expect(index.find(k) == v) }
                #expect(index.count == model.count)
            }
        }
        for k in Int64(-300)...300 { #expect(index.find(k &* 1_000_003) == model[k &* 1_000_003]) }
    }
}
