import Foundation
import ServiceCore
import XCTest

/// nginx pins a client address to one gateway (ip_hash, keyed on the address's first three
/// octets), so a load generator on one address exercises one gateway only. dts-load's
/// --source-addresses connects its users from several loopback addresses in turn: the same
/// TestRun3 flow then reaches both gateway instances of the test stack.
final class GatewaySpreadTests: XCTestCase {
    private func binary(_ name: String) throws -> String {
        guard let dir = PTEnv.values["DT_TEST_BIN_DIR"], !dir.isEmpty else {
            throw XCTSkip("DT_TEST_BIN_DIR is not set: run through scripts/test")
        }
        return dir + "/" + name
    }

    /// Requests each gateway instance has answered so far (sum of http_requests_total).
    private func gatewayRequests() throws -> [Double] {
        let base = try PTEnv.portBase()
        return try Topology.gateway.ports.map { port in
            // Not counting the scrapes themselves.
            try PTEnv.metrics(Endpoint(host: "127.0.0.1", port: base + port))
                .filter { $0.series.hasPrefix("http_requests_total{") && !$0.series.contains("/metrics\"") }
                .reduce(0) { $0 + $1.value }
        }
    }

    /// Plays the flow for `users` fresh users (InitialSetup on a reset ledger first); returns how
    /// many more requests each gateway answered.
    private func play(users: Int, sources: String?) throws -> [Double] {
        try PTLedger.resetAll()
        let csv = FileManager.default.temporaryDirectory.appendingPathComponent("spread-\(UUID().uuidString).csv")
        defer { try? FileManager.default.removeItem(at: csv) }
        let prefix = PTEnv.unique("sp")
        let rows = (0..<users).map { "\(prefix)u\($0),Pass@\($0)word,User \($0)" }
        try (["username,password,name"] + rows).joined(separator: "\n").write(
            to: csv, atomically: true, encoding: .utf8)
        let nginx = try PTEnv.nginx()
        var args = [
            "--users-file", csv.path, "--url", "http://\(nginx.host):\(nginx.port)", "--ramp-up", "0",
            "--pause-scale", "0", "--progress", "0",
        ]
        if let sources { args += ["--source-addresses", sources] }
        let before = try gatewayRequests()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try binary("dts-load"))
        p.arguments = args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "dts-load: every user step passes\n\(text.suffix(3000))")
        let after = try gatewayRequests()
        return zip(after, before).map { $0 - $1 }
    }

    func testOneAddressReachesOneGatewayAndSeveralReachBoth() throws {
        let users = 16
        // The flow's 10 user steps per user plus InitialSetup's 13, all through nginx.
        let single = try play(users: users, sources: nil)
        XCTAssertEqual(single.reduce(0, +), Double(10 * users + 13), "\(single)")
        XCTAssertEqual(single.filter { $0 > 0 }.count, 1, "one client address, one gateway: \(single)")

        let addresses = (1...8).map { "127.0.\($0).1" }.joined(separator: ",")
        let spread = try play(users: users, sources: addresses)
        XCTAssertEqual(spread.reduce(0, +), Double(10 * users + 13), "\(spread)")
        XCTAssertTrue(spread.allSatisfy { $0 > 0 }, "eight /24s over two gateways: \(spread)")
        try PTLedger.conservation()
    }
}
