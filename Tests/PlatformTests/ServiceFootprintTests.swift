import Foundation
import XCTest

/// Services link no Foundation: libFoundation with FoundationInternationalization and ICU cost
/// ~6.5 MB of each one's idle RSS, FoundationEssentials ~3.3 MB more (BENCHMARKS.md, "Memory
/// (VmRSS"). An `import Foundation` in a module a service links would bring them back; this reads
/// the running test stack's mappings to catch it.
final class ServiceFootprintTests: XCTestCase {
    /// auth keeps FoundationEssentials: swift-argument-parser (its --bench-hash flag) imports it.
    private static let essentialsAllowed: Set<String> = ["auth"]

    func testServicesMapNoFoundation() throws {
        let pids = try PTEnv.require("DT_TEST_STATE") + "/pids"
        let files = try FileManager.default.contentsOfDirectory(atPath: pids).filter { $0.hasSuffix(".pid") }
        var checked: [String] = []
        for file in files.sorted() {
            // "buy-19200.pid" → "buy"; nginx and redis are not ours.
            let instance = String(file.dropLast(4))
            guard let dash = instance.lastIndex(of: "-") else { continue }
            let service = String(instance[..<dash])
            guard service != "nginx", service != "redis", !service.hasPrefix("postgres") else { continue }
            let pidText = try String(contentsOfFile: pids + "/" + file, encoding: .utf8)
            guard let pid = Int(pidText.trimmingCharacters(in: .whitespacesAndNewlines)),
                let maps = try? String(contentsOfFile: "/proc/\(pid)/maps", encoding: .utf8)
            else { continue } // an instance a crash test stopped and did not bring back
            let libraries = Set(
                maps.split(separator: "\n").compactMap { $0.split(separator: "/").last.map(String.init) })
            for lib in libraries where lib.hasPrefix("libFoundation") || lib.hasPrefix("lib_FoundationICU") {
                if lib.hasPrefix("libFoundationEssentials"), Self.essentialsAllowed.contains(service) { continue }
                XCTFail("\(instance) maps \(lib): a module it links imports Foundation")
            }
            checked.append(instance)
        }
        // Every service of the stack (hello, gateway, auth, quote-server, buy, sell, user-utilities,
        // matching-engine, trigger-worker, market-stream) must have been looked at.
        let services = Set(checked.compactMap { name in name.lastIndex(of: "-").map { String(name[..<$0]) } })
        XCTAssertGreaterThanOrEqual(services.count, 10, "services checked: \(checked)")
    }
}
