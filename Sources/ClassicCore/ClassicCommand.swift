import Ledger
import ServiceCore

/// The 16 classic commands (the XSD's `commandType` enumeration, exactly).
// swift-format-ignore: AlwaysUseLowerCamelCase
// (the cases are the wire names of the spec, spelled as it spells them)
public enum ClassicCommandName: String, Sendable, CaseIterable {
    case ADD, QUOTE, BUY, COMMIT_BUY, CANCEL_BUY, SELL, COMMIT_SELL, CANCEL_SELL
    case SET_BUY_AMOUNT, CANCEL_SET_BUY, SET_BUY_TRIGGER
    case SET_SELL_AMOUNT, SET_SELL_TRIGGER, CANCEL_SET_SELL
    case DUMPLOG, DISPLAY_SUMMARY

    /// Commands routed to each service (the gateway's split).
    public static let buySide: [ClassicCommandName] = [
        .BUY, .COMMIT_BUY, .CANCEL_BUY, .SET_BUY_AMOUNT, .SET_BUY_TRIGGER, .CANCEL_SET_BUY,
    ]
    public static let sellSide: [ClassicCommandName] = [
        .SELL, .COMMIT_SELL, .CANCEL_SELL, .SET_SELL_AMOUNT, .SET_SELL_TRIGGER, .CANCEL_SET_SELL,
    ]
    public static let utilities: [ClassicCommandName] = [.ADD, .QUOTE, .DISPLAY_SUMMARY, .DUMPLOG]

    /// The command's line has a stock symbol (spec §1): only then is one read and logged.
    public var takesStock: Bool {
        switch self {
        case .QUOTE, .BUY, .SELL, .SET_BUY_AMOUNT, .SET_BUY_TRIGGER, .CANCEL_SET_BUY, .SET_SELL_AMOUNT,
            .SET_SELL_TRIGGER, .CANCEL_SET_SELL:
            return true
        case .ADD, .COMMIT_BUY, .CANCEL_BUY, .COMMIT_SELL, .CANCEL_SELL, .DUMPLOG, .DISPLAY_SUMMARY: return false
        }
    }

    /// The command's line has an amount (or trigger price): only then is one read and logged.
    public var takesAmount: Bool {
        switch self {
        case .ADD, .BUY, .SELL, .SET_BUY_AMOUNT, .SET_BUY_TRIGGER, .SET_SELL_AMOUNT, .SET_SELL_TRIGGER: return true
        case .QUOTE, .COMMIT_BUY, .CANCEL_BUY, .COMMIT_SELL, .CANCEL_SELL, .CANCEL_SET_BUY, .CANCEL_SET_SELL,
            .DUMPLOG, .DISPLAY_SUMMARY:
            return false
        }
    }
}

/// One command as received (fields raw, validated by the engine so bad input becomes an errorEvent).
public struct ClassicRequest: Sendable {
    public var command: ClassicCommandName
    public var userid: String?
    public var stock: String?
    /// Dollar amount (or trigger price) as decimal text, e.g. "123.45"; nil when absent.
    public var amount: String?
    public var filename: String?
    /// The workload's [N]; nil = take one from the global sequence.
    public var transactionNum: Int64?
    /// The verified users.id the command acts on when `userid` is the caller's own name (every
    /// non-admin command); nil when the admin names another user, who is then found by name.
    public var actingUserId: Int64?
    /// The verified users.id of whoever sent the command (owner of a client-chosen transactionNum).
    public var callerId: Int64?
    /// The request's Idempotency-Key: its outcome is stored in the command's transaction.
    public var key: IdempotencyTicket?

    public init(
        _ command: ClassicCommandName, userid: String? = nil, stock: String? = nil, amount: String? = nil,
        filename: String? = nil, transactionNum: Int64? = nil
    ) {
        self.command = command
        self.userid = userid
        self.stock = stock
        self.amount = amount
        self.filename = filename
        self.transactionNum = transactionNum
    }
}

/// Error codes of spec §10.10. Every errorEvent message and error response starts with `CODE: `.
// swift-format-ignore: AlwaysUseLowerCamelCase
// (the spec's codes, as they appear on the wire)
public enum ClassicErrorCode: String, Sendable {
    case UNKNOWN_USER, INVALID_ARGUMENT, INSUFFICIENT_FUNDS, NOT_OWNED, INSUFFICIENT_SHARES, ZERO_SHARES
    case NO_PENDING_BUY, NO_PENDING_SELL, NO_BUY_AMOUNT, NO_SELL_AMOUNT, QUOTE_UNAVAILABLE, FORBIDDEN

    public var httpStatus: Int {
        switch self {
        case .UNKNOWN_USER: return 404
        case .FORBIDDEN: return 403
        case .QUOTE_UNAVAILABLE: return 503
        default: return 400
        }
    }
}

public struct ClassicError: Error, Sendable, Equatable, CustomStringConvertible {
    public let code: ClassicErrorCode
    public let sentence: String
    public init(_ code: ClassicErrorCode, _ sentence: String) {
        self.code = code
        self.sentence = Self.printable(sentence)
    }

    /// A sentence may quote the client's text, which may hold control characters: PostgreSQL's
    /// text cannot store NUL and XML 1.0 cannot carry most C0 controls, so the errorEvent would
    /// fail to log (or the DUMPLOG to parse). They are written as `\uXXXX` instead.
    static func printable(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) else { return text }
        var out = String.UnicodeScalarView()
        for u in text.unicodeScalars {
            if u.value < 0x20 || u.value == 0x7f {
                let hex = String(u.value, radix: 16, uppercase: true)
                out.append(contentsOf: ("\\u" + String(repeating: "0", count: 4 - hex.count) + hex).unicodeScalars)
            } else {
                out.append(u)
            }
        }
        return String(out)
    }
    /// `CODE: sentence`, as logged in errorMessage and sent in the response.
    public var message: String { "\(code.rawValue): \(sentence)" }
    public var description: String { message }
}

/// Input checks shared by the commands.
enum ClassicInput {
    /// Largest accepted amount: $10 billion keeps shares × price far from Int64 overflow.
    static let maxCents: Int64 = 1_000_000_000_000

    /// A credit that would pass `LedgerBounds` (checked before anything is written).
    static let balanceBound = ClassicError(
        .INVALID_ARGUMENT, "the account would pass the ledger's bound of \(Money.format(LedgerBounds.maxBalanceCents))")
    static let holdingBound = ClassicError(
        .INVALID_ARGUMENT, "the holding would pass the ledger's bound of \(LedgerBounds.maxHoldingShares) shares")

    /// Cents of a decimal dollar text, nil if malformed (used for the log's `funds` too).
    static func cents(_ text: String?) -> Int64? {
        guard let t = text?.trimmingSpaces(), !t.isEmpty else { return nil }
        return Money.parseCents(t)
    }

    /// A positive, well-formed amount or INVALID_ARGUMENT. `what` names it in the sentence.
    static func positiveAmount(_ text: String?, what: String = "amount") throws(ClassicError) -> Int64 {
        guard let raw = text, !raw.trimmingSpaces().isEmpty else {
            throw ClassicError(.INVALID_ARGUMENT, "\(what) is missing")
        }
        guard let c = cents(raw) else {
            throw ClassicError(
                .INVALID_ARGUMENT, "\(what) '\(raw.prefix(40))' is not a dollar amount with at most 2 decimals")
        }
        guard c > 0 else { throw ClassicError(.INVALID_ARGUMENT, "\(what) \(Money.format(c)) must be greater than 0") }
        guard c <= maxCents else { throw ClassicError(.INVALID_ARGUMENT, "\(what) \(Money.format(c)) is too large") }
        return c
    }

    /// A stock symbol of 1–3 letters (upper-cased), or nil.
    static func symbol(_ text: String?) -> String? {
        guard let t = text?.trimmingSpaces().uppercased(), (1...3).contains(t.utf8.count),
            t.utf8.allSatisfy({ $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") })
        else { return nil }
        return t
    }

    static func requireSymbol(_ text: String?) throws(ClassicError) -> String {
        guard let text, !text.isEmpty else { throw ClassicError(.INVALID_ARGUMENT, "stock symbol is missing") }
        guard let s = symbol(text) else {
            throw ClassicError(.INVALID_ARGUMENT, "stock symbol '\(text.prefix(20))' must be 1 to 3 letters")
        }
        return s
    }

    /// A user id as the workload writes them (the user-name rule); other text never reaches the database.
    static func userid(_ text: String?) -> String? {
        guard let t = text?.trimmingSpaces(), UserName.isValid(t) else { return nil }
        return t
    }
}

extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\r" || f == "\n" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" || l == "\n" { s = s.dropLast() }
        return String(s)
    }
}
