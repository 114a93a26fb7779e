import CLibPQ

/// Rows of a query in text format. Accessors return nil for SQL NULL or an unparsable value.
public final class PGResult {
    private let result: OpaquePointer?
    public let count: Int
    public let columns: Int

    init(_ result: OpaquePointer?) {
        self.result = result
        count = result.map { Int(PQntuples($0)) } ?? 0
        columns = result.map { Int(PQnfields($0)) } ?? 0
    }

    deinit { PQclear(result) }

    /// Rows changed by INSERT/UPDATE/DELETE.
    public var affectedRows: Int {
        guard let r = result, let s = PQcmdTuples(r) else { return 0 }
        return Int(String(cString: s)) ?? 0
    }

    public func isNull(_ row: Int, _ col: Int) -> Bool {
        guard let r = result, row < count, col < columns else { return true }
        return PQgetisnull(r, Int32(row), Int32(col)) != 0
    }

    public func string(_ row: Int, _ col: Int) -> String? {
        guard let r = result, !isNull(row, col), let p = PQgetvalue(r, Int32(row), Int32(col)) else { return nil }
        return String(cString: p)
    }

    public func int64(_ row: Int, _ col: Int) -> Int64? { string(row, col).flatMap { Int64($0) } }
    public func int(_ row: Int, _ col: Int) -> Int? { string(row, col).flatMap { Int($0) } }
    public func bool(_ row: Int, _ col: Int) -> Bool? { string(row, col).map { $0 == "t" } }

    /// Column index by name, for readability in callers that select many columns.
    public func column(_ name: String) -> Int? {
        guard let r = result else { return nil }
        let i = Int(PQfnumber(r, name))
        return i >= 0 ? i : nil
    }
}
