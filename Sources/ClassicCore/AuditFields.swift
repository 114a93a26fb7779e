/// Bounds on the client-chosen fields that end up in the audit log.
enum AuditFields {
    /// Client-chosen transaction numbers (the workload's `[N]`) stay below this; numbers the
    /// server assigns start above it, so the two can never collide.
    static let maxTransactionNum: Int64 = 999_999_999_999
    static let maxFilenameBytes = 255

    /// DUMPLOG's filename: ≤ 255 bytes of letters, digits and `. _ - /`. Any other command's
    /// filename is ignored (not logged), as the spec gives it meaning only for DUMPLOG.
    static func filename(_ text: String?, command: ClassicCommandName) throws(ClassicError) -> String? {
        guard command == .DUMPLOG, let raw = text else { return nil }
        let t = raw.trimmingSpaces()
        guard !t.isEmpty else { return nil }
        guard t.utf8.count <= maxFilenameBytes, t.utf8.allSatisfy(isFilenameByte) else {
            throw ClassicError(
                .INVALID_ARGUMENT, "filename must be at most \(maxFilenameBytes) characters from A-Z a-z 0-9 . _ - /")
        }
        return t
    }

    private static func isFilenameByte(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "/"):
            return true
        default:
            return false
        }
    }
}
