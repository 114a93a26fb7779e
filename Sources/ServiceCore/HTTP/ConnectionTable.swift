/// A loop's open connections by descriptor. The kernel hands out the lowest free numbers, so an
/// array indexed by fd stays small and finds a connection on every socket event without hashing.
struct ConnectionTable {
    private var slots: [Connection?] = []
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    subscript(fd: Int32) -> Connection? {
        get {
            let i = Int(fd)
            return i >= 0 && i < slots.count ? slots[i] : nil
        }
        set {
            let i = Int(fd)
            guard i >= 0 else { return }
            if i >= slots.count {
                guard newValue != nil else { return }
                slots.append(contentsOf: repeatElement(nil, count: i + 1 - slots.count))
            }
            if slots[i] == nil && newValue != nil { count += 1 }
            if slots[i] != nil && newValue == nil { count -= 1 }
            slots[i] = newValue
        }
    }

    /// A snapshot: closing connections while walking it is safe.
    var all: [Connection] { slots.compactMap { $0 } }
}
