import Glibc
import Ledger
import ServiceCore

/// Writes a DUMPLOG's XML to a temporary file (deleted by the server once sent).
enum DumpFile {
    static func write(_ plan: ClassicEngine.DumpPlan, db: PGConnection) throws -> String {
        var template = Array("/tmp/dt-dumplog-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw HTTPError(500, "cannot create the DUMPLOG file") }
        let path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        defer { close(fd) }
        do {
            try ClassicEngine.writeDump(plan, db: db) { chunk in
                var off = 0
                while off < chunk.count {
                    let n = chunk.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + off, $0.count - off) }
                    guard n > 0 else { throw HTTPError(500, "cannot write the DUMPLOG file") }
                    off += n
                }
            }
        } catch {
            unlink(path)
            throw error
        }
        return path
    }
}
