import ServiceCore

/// One answered quote, in both wire forms.
struct Quote: Sendable {
    let priceCents: Int64
    let symbol: String
    let user: String
    let timestamp: Int64
    let cryptokey: String

    var price: String { Money.format(priceCents) }

    /// Legacy reply: `price,SYM,user,timestamp,cryptokey\n`.
    var line: String { "\(price),\(symbol),\(user),\(timestamp),\(cryptokey)\n" }

    var json: JSON {
        .object([
            ("price", .string(price)), ("symbol", .string(symbol)), ("user", .string(user)),
            ("timestamp", .int(timestamp)), ("cryptokey", .string(cryptokey)),
        ])
    }
}

enum QuoteInput {
    /// 1–3 upper-case ASCII letters, the classic symbol rule.
    static func isSymbol(_ s: Substring) -> Bool {
        !s.isEmpty && s.utf8.count <= 3 && s.utf8.allSatisfy { $0 >= 0x41 && $0 <= 0x5A }
    }

    /// Printable ASCII without separators, at most 64 bytes.
    static func isUser(_ s: Substring) -> Bool {
        !s.isEmpty && s.utf8.count <= 64 && s.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ",") }
    }

    enum Parsed: Equatable {
        case ok(symbol: String, user: String)
        /// What to echo in the `0.00,SYM,NA,...` reply.
        case bad(echoSymbol: String)
    }

    /// The legacy server was lenient: `SYM,user`, `SYM user`, and even `user,SYM` all worked.
    static func parseLine(_ raw: Substring) -> Parsed {
        let line = raw.trimmingASCIIWhitespace()
        let fields = line.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" })
        guard fields.count == 2 else {
            return .bad(echoSymbol: echo(fields.first))
        }
        if isSymbol(fields[0]) && isUser(fields[1]) { return .ok(symbol: String(fields[0]), user: String(fields[1])) }
        if isSymbol(fields[1]) && isUser(fields[0]) { return .ok(symbol: String(fields[1]), user: String(fields[0])) }
        return .bad(echoSymbol: echo(fields[0]))
    }

    private static func echo(_ field: Substring?) -> String {
        guard let f = field else { return "" }
        return String(
            String.UnicodeScalarView(f.unicodeScalars.filter { $0.isASCII && $0.value > 0x20 && $0 != "," }.prefix(16)))
    }
}
