/// Exact paths found by their bytes: FNV-1a and open addressing over a power-of-two table.
/// `Dictionary<String, _>` pays a SipHash of the path on every request (~0.4k instructions on
/// the event loop); this pays a few per byte. Built when routes are registered, read-only after.
struct PathTable<Value> {
    private struct Entry {
        let hash: UInt64
        let path: [UInt8]
        let value: Value
    }

    private var entries: [Entry] = []
    /// Index into `entries` + 1; 0 marks an empty slot.
    private var slots: [Int] = []

    init() {}

    /// Rebuilt from scratch (registration only, never per request).
    init(_ items: [(path: String, value: Value)]) {
        entries = items.map { Entry(hash: Self.hash(Array($0.path.utf8)), path: Array($0.path.utf8), value: $0.value) }
        var size = 16
        while size < entries.count * 2 { size *= 2 }
        slots = Array(repeating: 0, count: size)
        for (k, e) in entries.enumerated() {
            var i = Int(truncatingIfNeeded: e.hash) & (size - 1)
            while slots[i] != 0 { i = (i + 1) & (size - 1) }
            slots[i] = k + 1
        }
    }

    func lookup(_ path: String) -> Value? {
        if let found = path.utf8.withContiguousStorageIfAvailable({ lookup(bytes: $0) }) { return found }
        return Array(path.utf8).withUnsafeBufferPointer { lookup(bytes: $0) }
    }

    func lookup(bytes: UnsafeBufferPointer<UInt8>) -> Value? {
        guard !slots.isEmpty else { return nil }
        let h = Self.hash(bytes)
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let k = slots[i]
            if k == 0 { return nil }
            // Fields read in place: copying an entry would retain its arrays.
            if entries[k - 1].hash == h && entries[k - 1].path.withUnsafeBufferPointer({ Self.same($0, bytes) }) {
                return entries[k - 1].value
            }
            i = (i + 1) & mask
        }
    }

    private static func same(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard a.count == b.count else { return false }
        for i in 0..<a.count where a[i] != b[i] { return false }
        return true
    }

    private static func hash<C: Collection<UInt8>>(_ bytes: C) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        return h
    }
}
