import Foundation
import XCTest

/// The tools' command lines (swift-argument-parser): help, usage errors with exit status 64
/// (EX_USAGE), and that each still does its job when called as the scripts call it.
final class CommandLineToolsTests: XCTestCase {
    private func binary(_ name: String) throws -> String {
        guard let dir = ProcessInfo.processInfo.environment["DT_TEST_BIN_DIR"], !dir.isEmpty else {
            throw XCTSkip("DT_TEST_BIN_DIR is not set: run through scripts/test")
        }
        let path = dir + "/" + name
        guard FileManager.default.isExecutableFile(atPath: path) else { throw XCTSkip("no \(name) in \(dir)") }
        return path
    }

    private func temporaryFile(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("cli-\(UUID().uuidString)-\(name)").path
    }

    func testReplayGeneratesTheSameWorkloadForASeedAndRefusesBadUsage() throws {
        let tool = try binary("dts-replay")
        let a = temporaryFile("a.txt")
        let b = temporaryFile("b.txt")
        defer { for f in [a, b] { try? FileManager.default.removeItem(atPath: f) } }
        for out in [a, b] {
            let run = try workloadRun(tool, ["gen", "--users", "3", "--commands", "20", "--seed", "7", "--out", out])
            XCTAssertEqual(run.status, 0, run.output)
        }
        let text = try String(contentsOfFile: a, encoding: .utf8)
        XCTAssertEqual(text, try String(contentsOfFile: b, encoding: .utf8), "same seed, same workload")
        let lines = text.split(separator: "\n")
        XCTAssertEqual(lines.count, 20)
        XCTAssertTrue(lines.last?.contains("DUMPLOG") ?? false, String(lines.last ?? ""))

        // The default subcommand replays: a dry run parses and groups without sending anything.
        let dry = try workloadRun(tool, [a, "--dry-run", "--stats-url", "none", "--quote-url", "none"])
        XCTAssertEqual(dry.status, 0, dry.output)
        XCTAssertTrue(dry.output.contains("20 commands, 3 users"), dry.output)
        // The 2023 copies of the workloads end their lines with CRLF: the same workload.
        let crlf = temporaryFile("crlf.txt")
        defer { try? FileManager.default.removeItem(atPath: crlf) }
        try text.replacingOccurrences(of: "\n", with: "\r\n").write(toFile: crlf, atomically: true, encoding: .utf8)
        let dryCRLF = try workloadRun(tool, [crlf, "--dry-run", "--stats-url", "none", "--quote-url", "none"])
        XCTAssertEqual(dryCRLF.status, 0, dryCRLF.output)
        XCTAssertTrue(dryCRLF.output.contains("20 commands, 3 users"), dryCRLF.output)

        let unknown = try workloadRun(tool, [a, "--no-such-flag"])
        XCTAssertEqual(unknown.status, 64, unknown.output)
        XCTAssertTrue(unknown.output.contains("--no-such-flag"), unknown.output)
        let badURL = try workloadRun(tool, [a, "--url", "ftp://x", "--dry-run"])
        XCTAssertEqual(badURL.status, 64, badURL.output)
        XCTAssertTrue(badURL.output.contains("not an http:// URL"), badURL.output)
        let tooFew = try workloadRun(tool, ["gen", "--users", "5", "--commands", "5"])
        XCTAssertEqual(tooFew.status, 64, tooFew.output)
        let help = try workloadRun(tool, ["--help"])
        XCTAssertEqual(help.status, 0, help.output)
        XCTAssertTrue(help.output.contains("gen"), help.output)
    }

    func testLoadNeedsAUsersFileAndValidOptions() throws {
        let tool = try binary("dts-load")
        let missing = try workloadRun(tool, [])
        XCTAssertEqual(missing.status, 64, missing.output)
        XCTAssertTrue(missing.output.contains("--users-file"), missing.output)
        let badNumber = try workloadRun(tool, ["--users-file", "x.csv", "--threads", "many"])
        XCTAssertEqual(badNumber.status, 64, badNumber.output)
        let badURL = try workloadRun(tool, ["--users-file", "x.csv", "--url", "https://x"])
        XCTAssertEqual(badURL.status, 64, badURL.output)
        let help = try workloadRun(tool, ["--help"])
        XCTAssertEqual(help.status, 0)
        XCTAssertTrue(help.output.contains("--ramp-up"), help.output)
    }

    func testStreamBenchRefusesBadNumbersAndURLsBeforeConnecting() throws {
        let tool = try binary("dts-stream")
        let badNumber = try workloadRun(tool, ["--clients", "0"])
        XCTAssertEqual(badNumber.status, 64, badNumber.output)
        let notANumber = try workloadRun(tool, ["--rate", "fast"])
        XCTAssertEqual(notANumber.status, 64, notANumber.output)
        let badURL = try workloadRun(tool, ["--url", "https://x"])
        XCTAssertEqual(badURL.status, 64, badURL.output)
        let help = try workloadRun(tool, ["--help"])
        XCTAssertEqual(help.status, 0)
        XCTAssertTrue(help.output.contains("--clients"), help.output)
    }

    func testOrderBookBenchTakesPositionalArgumentsAndRefusesAnUnknownMix() throws {
        let tool = try binary("bench-orderbook")
        let run = try workloadRun(tool, ["3000", "1", "1", "standard"])
        XCTAssertEqual(run.status, 0, run.output)
        XCTAssertTrue(run.output.contains("[standard]"), run.output)
        XCTAssertFalse(run.output.contains("[exchange]"), "only the mix asked for")
        XCTAssertTrue(run.output.contains("p99.9"), run.output)
        let bad = try workloadRun(tool, ["3000", "1", "1", "nasdaq"])
        XCTAssertEqual(bad.status, 64, bad.output)
    }

    func testFuzzReplayerTakesATargetAndPaths() throws {
        let tool = try binary("dt-fuzz")
        guard let repo = ProcessInfo.processInfo.environment["DT_TEST_REPO"] else {
            throw XCTSkip("DT_TEST_REPO is not set")
        }
        let run = try workloadRun(tool, ["--target", "json", repo + "/Fuzz/corpus/json"])
        XCTAssertEqual(run.status, 0, run.output)
        XCTAssertTrue(run.output.contains("dt-fuzz: json:"), run.output)
        let bad = try workloadRun(tool, ["--target", "xml", repo + "/Fuzz/corpus/json"])
        XCTAssertEqual(bad.status, 64, bad.output)
    }

    func testAuthRefusesIterationsWithoutBenchHash() throws {
        let tool = try binary("auth")
        let run = try workloadRun(tool, ["1000"])
        XCTAssertEqual(run.status, 64, run.output)
        XCTAssertTrue(run.output.contains("--bench-hash"), run.output)
        let bench = try workloadRun(tool, ["--bench-hash", "16"])
        XCTAssertEqual(bench.status, 0, bench.output)
        XCTAssertTrue(bench.output.contains("iterations=16"), bench.output)
    }
}
