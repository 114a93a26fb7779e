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
        AuditEntry(kind: kind, timestamp: t, server: server, transactionNum: txn, command: request.command,
                   username: username, stockSymbol: symbol, filename: request.filename, fundsCents: fundsCents, message: message)
    }

    mutating func account(_ action: String, _ cents: Int64, user: String) {
        log.append(.account(action, cents: cents, user: user, at: t, server: server, txn: txn))
    }

    /// userCommand first, then the command's own entries, then the errorEvent if it failed.
    func flush(_ db: PGConnection, error: ClassicError?) throws {
        var all = AuditBuffer()
        all.append(commandEntry(.userCommand))
        for e in log.entries { all.append(e) }
        if let error { all.append(commandEntry(.errorEvent, message: error.message)) }
        try all.flush(db)
    }
}


