import Ledger
import ServiceCore

/// The six entry types of logfile.xsd (the raw value is the XML element name).
public enum AuditKind: String, Sendable, CaseIterable {
    case userCommand, quoteServer, accountTransaction, systemEvent, errorEvent, debugEvent
}

/// One audit-log entry. Optional fields are left out of the XML when nil.
public struct AuditEntry: Sendable, Equatable {
    public var kind: AuditKind
    public var timestamp: Int64
    public var server: String
    public var transactionNum: Int64
    public var command: ClassicCommandName?
    public var username: String?
    public var stockSymbol: String?
    public var filename: String?
    public var fundsCents: Int64?
    /// accountTransaction: "add" / "remove".
    public var action: String?
    /// quoteServer fields.
    public var priceCents: Int64?
    public var quoteServerTime: Int64?
    public var cryptokey: String?
    /// errorEvent errorMessage / debugEvent debugMessage.
    public var message: String?

    public init(
        kind: AuditKind, timestamp: Int64, server: String, transactionNum: Int64,
        command: ClassicCommandName? = nil, username: String? = nil, stockSymbol: String? = nil,
        filename: String? = nil, fundsCents: Int64? = nil, action: String? = nil, priceCents: Int64? = nil,
        quoteServerTime: Int64? = nil, cryptokey: String? = nil, message: String? = nil
    ) {
        self.kind = kind
        self.timestamp = timestamp
        self.server = server
        self.transactionNum = transactionNum
        self.command = command
        self.username = username
        self.stockSymbol = stockSymbol
        self.filename = filename
        self.fundsCents = fundsCents
        self.action = action
        self.priceCents = priceCents
        self.quoteServerTime = quoteServerTime
        self.cryptokey = cryptokey
        self.message = message
    }

    static func quote(_ q: Quote, server: String, txn: Int64) -> AuditEntry {
        AuditEntry(
            kind: .quoteServer, timestamp: q.obtainedAt, server: server, transactionNum: txn, username: q.user,
            stockSymbol: q.symbol, priceCents: q.priceCents, quoteServerTime: q.quoteServerTime, cryptokey: q.cryptokey)
    }

    static func account(_ action: String, cents: Int64, user: String, at: Int64, server: String, txn: Int64)
        -> AuditEntry
    {
        AuditEntry(
            kind: .accountTransaction, timestamp: at, server: server, transactionNum: txn, username: user,
            fundsCents: cents, action: action)
    }
}

/// Entries of one database transaction, written with one multi-row INSERT just before COMMIT.
struct AuditBuffer {
    private(set) var entries: [AuditEntry] = []

    mutating func append(_ e: AuditEntry) { entries.append(e) }

    static let columns =
        "kind, ts_ms, server, txn, command, username, stock, filename, funds_cents, action, price_cents, quote_time, cryptokey, message"

    /// All entries in one statement (a batch's worth: one array per column), in order.
    func flush(_ db: PGConnection) throws {
        guard !entries.isEmpty else { return }
        let e = entries
        try db.query(
            """
            INSERT INTO classic_log (\(AuditBuffer.columns))
            SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::text[],
                                 $8::text[], $9::bigint[], $10::text[], $11::bigint[], $12::bigint[], $13::text[], $14::text[])
            """,
            [
                SQLArray.words(e.map(\.kind.rawValue)), SQLArray.ints(e.map(\.timestamp)),
                SQLArray.texts(e.map(\.server)),
                SQLArray.ints(e.map(\.transactionNum)), SQLArray.texts(e.map { $0.command?.rawValue }),
                SQLArray.texts(e.map(\.username)), SQLArray.texts(e.map(\.stockSymbol)),
                SQLArray.texts(e.map(\.filename)),
                SQLArray.optionalInts(e.map(\.fundsCents)), SQLArray.texts(e.map(\.action)),
                SQLArray.optionalInts(e.map(\.priceCents)), SQLArray.optionalInts(e.map(\.quoteServerTime)),
                SQLArray.texts(e.map(\.cryptokey)), SQLArray.texts(e.map(\.message)),
            ])
    }
}

/// Reading the log back (DUMPLOG, RECENT_TRANSACTIONS, DISPLAY_SUMMARY, tests).
public enum AuditReader {
    static let selectColumns =
        "id, kind, ts_ms, server, txn, command, username, stock, filename, funds_cents, action, price_cents, quote_time, cryptokey, message"

    static func entry(_ r: PGResult, _ row: Int) -> (id: Int64, entry: AuditEntry)? {
        guard let id = r.int64(row, 0), let kindText = r.string(row, 1), let kind = AuditKind(rawValue: kindText),
            let ts = r.int64(row, 2), let txn = r.int64(row, 4)
        else { return nil }
        let e = AuditEntry(
            kind: kind, timestamp: ts, server: r.string(row, 3) ?? "", transactionNum: txn,
            command: r.string(row, 5).flatMap(ClassicCommandName.init(rawValue:)),
            username: r.string(row, 6), stockSymbol: r.string(row, 7), filename: r.string(row, 8),
            fundsCents: r.int64(row, 9), action: r.string(row, 10), priceCents: r.int64(row, 11),
            quoteServerTime: r.int64(row, 12), cryptokey: r.string(row, 13), message: r.string(row, 14))
        return (id, e)
    }

    /// One keyset page in id order: entries with afterId < id < beforeId, optionally of one user.
    public static func page(
        _ db: PGConnection, username: String?, afterId: Int64, beforeId: Int64,
        limit: Int
    ) throws -> [(id: Int64, entry: AuditEntry)] {
        let r: PGResult
        if let username {
            r = try db.query(
                "SELECT \(selectColumns) FROM classic_log WHERE username = $1 AND id > $2 AND id < $3 ORDER BY id LIMIT $4",
                [username, afterId, beforeId, limit])
        } else {
            r = try db.query(
                "SELECT \(selectColumns) FROM classic_log WHERE id > $1 AND id < $2 ORDER BY id LIMIT $3",
                [afterId, beforeId, limit])
        }
        return (0..<r.count).compactMap { entry(r, $0) }
    }

    /// A user's newest `limit` entries, newest first.
    public static func recent(_ db: PGConnection, username: String, limit: Int) throws -> [AuditEntry] {
        let r = try db.query(
            "SELECT \(selectColumns) FROM classic_log WHERE username = $1 ORDER BY id DESC LIMIT $2",
            [username, limit])
        return (0..<r.count).compactMap { entry(r, $0)?.entry }
    }

    /// Every entry with a given transactionNum, in log order (tests and tools).
    public static func byTransaction(_ db: PGConnection, _ txn: Int64, username: String? = nil) throws -> [AuditEntry] {
        let r: PGResult
        if let username {
            r = try db.query(
                "SELECT \(selectColumns) FROM classic_log WHERE txn = $1 AND username = $2 ORDER BY id",
                [txn, username])
        } else {
            r = try db.query("SELECT \(selectColumns) FROM classic_log WHERE txn = $1 ORDER BY id", [txn])
        }
        return (0..<r.count).compactMap { entry(r, $0)?.entry }
    }
}

extension AuditEntry {
    /// JSON form for RECENT_TRANSACTIONS and DISPLAY_SUMMARY (money as decimal dollar text).
    public var json: JSON {
        var o: [(String, JSON)] = [
            ("type", .string(kind.rawValue)), ("timestamp", .int(timestamp)),
            ("server", .string(server)), ("transactionNum", .int(transactionNum)),
        ]
        if let command { o.append(("command", .string(command.rawValue))) }
        if let username { o.append(("username", .string(username))) }
        if let stockSymbol { o.append(("stockSymbol", .string(stockSymbol))) }
        if let filename { o.append(("filename", .string(filename))) }
        if let fundsCents { o.append(("funds", .string(Money.format(fundsCents)))) }
        if let action { o.append(("action", .string(action))) }
        if let priceCents { o.append(("price", .string(Money.format(priceCents)))) }
        if let quoteServerTime { o.append(("quoteServerTime", .int(quoteServerTime))) }
        if let cryptokey { o.append(("cryptokey", .string(cryptokey))) }
        if let message { o.append((kind == .debugEvent ? "debugMessage" : "errorMessage", .string(message))) }
        return .object(o)
    }
}
