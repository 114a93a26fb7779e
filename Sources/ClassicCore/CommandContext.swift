import Ledger
import ServiceCore

/// Per-command state: the fields every entry of this command repeats, and its buffered entries.
struct CommandContext {
    let request: ClassicRequest
    let txn: Int64
    /// The command's timestamp (for a fresh quote: when the reply arrived).
    var t: Int64
    let server: String
    var log = AuditBuffer()
    /// Pending orders the lazy expiry released during this command (for error sentences).
    var expiredBuys = 0
    var expiredSells = 0

    init(request: ClassicRequest, txn: Int64, t: Int64, server: String) {
        self.request = request
        self.txn = txn
        self.t = t
        self.server = server
    }

    var username: String? { ClassicInput.userid(request.userid) }
    var symbol: String? { ClassicInput.symbol(request.stock) }
    var fundsCents: Int64? { ClassicInput.cents(request.amount) }

    func requireUser() throws(ClassicError) -> String {
        guard let u = username else { throw ClassicError(.INVALID_ARGUMENT, "userid is missing") }
        return u
    }

    /// The userCommand / errorEvent shape: every field the command carried.
    func commandEntry(_ kind: AuditKind, message: String? = nil) -> AuditEntry {
        AuditEntry(
            kind: kind, timestamp: t, server: server, transactionNum: txn, command: request.command,
            username: username, stockSymbol: symbol, filename: request.filename, fundsCents: fundsCents,
            message: message)
    }

    mutating func account(_ action: String, _ cents: Int64, user: String) {
        log.append(.account(action, cents: cents, user: user, at: t, server: server, txn: txn))
    }

    /// userCommand first, then the command's own entries, then the errorEvent if it failed.
    func collect(into all: inout AuditBuffer, error: ClassicError?) {
        all.append(commandEntry(.userCommand))
        for e in log.entries { all.append(e) }
        if let error { all.append(commandEntry(.errorEvent, message: error.message)) }
    }

    /// Which commit lane the command goes to: its user's (the verified id, else its name).
    var userKey: Int64 {
        if let id = request.actingUserId { return id }
        var h: UInt64 = 0xcbf2_9ce4_8422_2325 // FNV-1a: stable across processes
        for b in (username ?? "").utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return Int64(bitPattern: h)
    }
}

/// What a command's transactional part decided, handed from the commit lane to the worker.
enum CommandOutcome: Sendable {
    case done(Result<JSON, ClassicError>)
    /// Nothing was decided (the account changed since the command's unlocked reads, or its quote
    /// aged out while it waited): the command runs again.
    case again
}

/// Thrown inside a command's transactional part when it must start over (`CommandOutcome.again`).
struct DecideAgain: Error {
    let txn: Int64
}

/// Written by the thread that ran the command before its batch commits; read by the worker after.
final class OutcomeBox: @unchecked Sendable {
    private var value: (CommandOutcome, CommandContext)?
    func set(_ o: CommandOutcome, _ c: CommandContext) { value = (o, c) }
    func get() -> (CommandOutcome, CommandContext)? { value }
}

/// A QUOTE/BUY/SELL that met a quote-cache miss with parking on: nothing was written or logged.
public struct QuoteMiss: Error, Sendable {
    public let symbol: String
    public let user: String
    let txn: Int64

    /// What the command runs again with once the fetch has answered.
    public func resume(with lookup: Result<QuoteCache.Lookup, ClassicError>) -> QuoteResume {
        QuoteResume(txn: txn, lookup: lookup)
    }
}

/// A parked command's quote (or why there is none) and the transactionNum it already had.
public struct QuoteResume: Sendable {
    let txn: Int64
    let lookup: Result<QuoteCache.Lookup, ClassicError>
}
