import Ledger
import ServiceCore

/// DUMPLOG (spec §7, §9, §10.9): the log as one XML document valid against logfile.xsd, written
/// in chunks from keyset-paged SELECTs so neither all rows nor (for a streaming sink) the whole
/// document need be in memory. A dump holds every entry logged before the DUMPLOG itself (its own
/// userCommand shows up in later dumps), which makes a per-user dump of an unknown user `<log/>`.
extension ClassicEngine {
    public struct DumpPlan: Sendable {
        /// nil = the whole system.
        public let username: String?
        /// Entries with id < this are included.
        public let beforeId: Int64
        public let transactionNum: Int64
        public let filename: String?
    }

    /// Logs the DUMPLOG userCommand and decides what to dump. `userid` nil = whole-system form,
    /// which needs `callerIsAdmin` (else FORBIDDEN, logged as an errorEvent of the caller).
    public func beginDump(
        _ req: ClassicRequest, callerName: String?, callerIsAdmin: Bool,
        db: PGConnection
    ) throws -> Result<DumpPlan, ClassicError> {
        let txn = try transactionNumber(req, db)
        let user = ClassicInput.userid(req.userid)
        let t = clock.nowMillis()
        var entry = AuditEntry(
            kind: .userCommand, timestamp: t, server: server, transactionNum: txn, command: .DUMPLOG,
            username: user, filename: req.filename)
        if user == nil && !callerIsAdmin {
            let e = ClassicError(.FORBIDDEN, "the whole-system DUMPLOG needs the admin role")
            entry.username = callerName.flatMap { ClassicInput.userid($0) }
            var error = entry
            error.kind = .errorEvent
            error.message = e.message
            var log = AuditBuffer()
            log.append(entry)
            log.append(error)
            let entries = log
            try db.transaction { tx in try entries.flush(tx) }
            return .failure(e)
        }
        let id = try db.transaction { tx -> Int64 in
            let r = try tx.query(
                """
                INSERT INTO classic_log (kind, ts_ms, server, txn, command, username, filename)
                VALUES ('userCommand', $1, $2, $3, 'DUMPLOG', $4, $5) RETURNING id
                """, [t, server, txn, user, req.filename])
            guard let id = r.int64(0, 0) else { throw LedgerInvariantError("log insert returned no id") }
            return id
        }
        return .success(DumpPlan(username: user, beforeId: id, transactionNum: txn, filename: req.filename))
    }

    /// Writes the XML document of `plan` to `sink`, one chunk per page of rows.
    public static func writeDump(
        _ plan: DumpPlan, db: PGConnection, pageSize: Int = 5000,
        sink: ([UInt8]) throws -> Void
    ) throws {
        var after: Int64 = 0
        var started = false
        var chunk: [UInt8] = []
        chunk.reserveCapacity(pageSize * 300)
        while true {
            let rows = try AuditReader.page(
                db, username: plan.username, afterId: after, beforeId: plan.beforeId, limit: pageSize)
            if !started {
                chunk.append(contentsOf: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n".utf8)
                if rows.isEmpty {
                    chunk.append(contentsOf: "<log/>\n".utf8)
                    try sink(chunk)
                    return
                }
                chunk.append(contentsOf: "<log>\n".utf8)
                started = true
            }
            for (id, e) in rows {
                XMLLog.append(e, to: &chunk)
                after = id
            }
            if rows.count < pageSize {
                chunk.append(contentsOf: "</log>\n".utf8)
                try sink(chunk)
                return
            }
            try sink(chunk)
            chunk.removeAll(keepingCapacity: true)
        }
    }
}

/// The XML form of one entry (one line per entry; funds and price as decimal dollars).
public enum XMLLog {
    public static func append(_ e: AuditEntry, to out: inout [UInt8]) {
        let tag = e.kind.rawValue
        out.append(contentsOf: "<\(tag)>".utf8)
        element("timestamp", String(e.timestamp), &out)
        element("server", e.server, &out)
        element("transactionNum", String(e.transactionNum), &out)
        switch e.kind {
        case .quoteServer:
            element("price", Money.format(e.priceCents ?? 0), &out)
            element("stockSymbol", e.stockSymbol ?? "", &out)
            element("username", e.username ?? "", &out)
            element("quoteServerTime", String(e.quoteServerTime ?? 0), &out)
            element("cryptokey", e.cryptokey ?? "", &out)
        case .accountTransaction:
            element("action", e.action ?? "", &out)
            element("username", e.username ?? "", &out)
            element("funds", Money.format(e.fundsCents ?? 0), &out)
        case .userCommand, .systemEvent, .errorEvent, .debugEvent:
            element("command", e.command?.rawValue ?? "DISPLAY_SUMMARY", &out)
            if let u = e.username { element("username", u, &out) }
            if let s = e.stockSymbol { element("stockSymbol", s, &out) }
            if let f = e.filename { element("filename", f, &out) }
            if let c = e.fundsCents { element("funds", Money.format(c), &out) }
            if let m = e.message, e.kind == .errorEvent { element("errorMessage", m, &out) }
            if let m = e.message, e.kind == .debugEvent { element("debugMessage", m, &out) }
        }
        out.append(contentsOf: "</\(tag)>\n".utf8)
    }

    static func element(_ name: String, _ value: String, _ out: inout [UInt8]) {
        out.append(UInt8(ascii: "<"))
        out.append(contentsOf: name.utf8)
        out.append(UInt8(ascii: ">"))
        escape(value, &out)
        out.append(contentsOf: "</".utf8)
        out.append(contentsOf: name.utf8)
        out.append(UInt8(ascii: ">"))
    }

    /// XML text escaping; control characters XML 1.0 forbids are dropped.
    static func escape(_ s: String, _ out: inout [UInt8]) {
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "&"): out.append(contentsOf: "&amp;".utf8)
            case UInt8(ascii: "<"): out.append(contentsOf: "&lt;".utf8)
            case UInt8(ascii: ">"): out.append(contentsOf: "&gt;".utf8)
            case 0x09, 0x0A, 0x0D: out.append(b)
            case 0..<0x20: continue
            default: out.append(b)
            }
        }
    }
}
