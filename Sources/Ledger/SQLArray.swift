/// PostgreSQL array literals for bulk statements (`unnest($1::bigint[], ...)`): the engine writes
/// a whole batch's rows with one statement per table instead of one per row.
/// Only numbers, booleans and fixed status words go in here, so no quoting is needed.
public enum SQLArray {
    public static func ints(_ values: [Int64]) -> String {
        var s = "{"
        s.reserveCapacity(values.count * 8 + 2)
        for (i, v) in values.enumerated() {
            if i > 0 { s.append(",") }
            s.append(String(v))
        }
        s.append("}")
        return s
    }

    public static func optionalInts(_ values: [Int64?]) -> String {
        "{" + values.map { $0.map { String($0) } ?? "NULL" }.joined(separator: ",") + "}"
    }

    public static func bools(_ values: [Bool]) -> String {
        "{" + values.map { $0 ? "t" : "f" }.joined(separator: ",") + "}"
    }

    /// Plain words ([A-Z_]) only.
    public static func words(_ values: [String]) -> String {
        "{" + values.joined(separator: ",") + "}"
    }

    /// Any text (or NULL): every element double-quoted with `\` and `"` escaped, so commas,
    /// braces, quotes and blanks in it stay data.
    public static func texts(_ values: [String?]) -> String {
        var s = "{"
        for (i, v) in values.enumerated() {
            if i > 0 { s.append(",") }
            guard let v else {
                s.append("NULL")
                continue
            }
            s.append("\"")
            for ch in v.unicodeScalars {
                if ch == "\\" || ch == "\"" { s.append("\\") }
                s.unicodeScalars.append(ch)
            }
            s.append("\"")
        }
        s.append("}")
        return s
    }
}
