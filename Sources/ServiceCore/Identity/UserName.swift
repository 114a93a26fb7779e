/// The one rule for user names, enforced at register and login (auth), on every token (gateway)
/// and on every `userid` a classic command names (services).
///
/// 1 to 64 bytes of ASCII letters, digits and `. _ - @` — the characters of the course's CSV users
/// and workload ids plus the usual e-mail punctuation. Case-sensitive (the workloads' ids are).
/// ASCII only, so no two distinct names are canonically equivalent Unicode, differ by invisible
/// format characters or by whitespace: equal text means equal bytes everywhere (Swift `==`,
/// PostgreSQL `=`, HTTP headers).
public enum UserName {
    public static let maxBytes = 64
    public static let ruleText = "1 to 64 characters from A-Z a-z 0-9 . _ - @ (no spaces, no other characters)"

    @inlinable
    public static func isValid<C: Collection>(_ bytes: C) -> Bool where C.Element == UInt8 {
        guard !bytes.isEmpty, bytes.count <= maxBytes else { return false }
        return bytes.allSatisfy(isAllowed)
    }

    @inlinable
    public static func isValid(_ name: String) -> Bool { isValid(name.utf8) }

    @inlinable
    static func isAllowed(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "@"):
            return true
        default:
            return false
        }
    }

    /// Byte-wise equality: the only way names are compared outside PostgreSQL.
    @inlinable
    public static func same(_ a: String, _ b: String) -> Bool { a.utf8.elementsEqual(b.utf8) }
}
