import Foundation
import ServiceCore
import XCTest

/// swift-log's `Logger` through our JSON handler: one parseable JSON object per line, typed
/// metadata, the level filter, and the level names the logs have always used.
final class JSONLogHandlerTests: XCTestCase {
    /// The lines a logger writing to a pipe produced while `body` ran.
    private func lines(level: Logger.Level, _ body: (Logger) -> Void) throws -> [JSON] {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        let logger = Logger(label: "t") { _ in JSONLogHandler(service: "svc-test", level: level, fd: fds[1]) }
        body(logger)
        close(fds[1])
        let data = FileHandle(fileDescriptor: fds[0], closeOnDealloc: true).readDataToEndOfFile()
        return try String(decoding: data, as: UTF8.self).split(separator: "\n").map { try JSON.parse(Array($0.utf8)) }
    }

    func testLinesAreJSONWithTypedMetadata() throws {
        struct Failure: Error, CustomStringConvertible { var description: String { "disk \"full\"" } }
        let out = try lines(level: .info) { log in
            log.info(
                "listening",
                metadata: [
                    "port": .stringConvertible(8080), "seeded": .stringConvertible(true),
                    "route": "GET /x", "nested": ["a": "b"],
                ])
            log.warning("retrying", error: Failure())
        }
        XCTAssertEqual(out.count, 2)
        XCTAssertEqual(out[0]["svc"], .string("svc-test"))
        XCTAssertEqual(out[0]["level"], .string("info"))
        XCTAssertEqual(out[0]["msg"], .string("listening"))
        XCTAssertEqual(out[0]["port"], .number("8080"), "integers stay JSON numbers")
        XCTAssertEqual(out[0]["seeded"], .bool(true))
        XCTAssertEqual(out[0]["route"], .string("GET /x"))
        XCTAssertEqual(out[0]["nested"]?["a"], .string("b"))
        XCTAssertNotNil(out[0]["ts"]?.int64Value)
        XCTAssertEqual(out[1]["level"], .string("warn"), "swift-log's .warning keeps the old name")
        XCTAssertEqual(out[1]["error"], .string("disk \"full\""), "the error is escaped, the line still parses")
    }

    func testLevelFilterAndLoggerMetadata() throws {
        let out = try lines(level: .warning) { log in
            var log = log
            log[metadataKey: "request"] = "r-1"
            log.debug("dropped")
            log.info("dropped too")
            log.error("kept", metadata: ["request": "r-2"])
        }
        XCTAssertEqual(out.count, 1)
        XCTAssertEqual(out.first?["msg"], .string("kept"))
        XCTAssertEqual(out.first?["request"], .string("r-2"), "a call's metadata overrides the logger's")
    }

    func testLevelFromConfig() {
        XCTAssertEqual(
            Logger.json(config: ServiceConfig(name: "a", environment: ["DT_LOG_LEVEL": "warn"])).logLevel, .warning)
        XCTAssertEqual(
            Logger.json(config: ServiceConfig(name: "a", environment: ["DT_LOG_LEVEL": "debug"])).logLevel, .debug)
        XCTAssertEqual(
            Logger.json(config: ServiceConfig(name: "a", environment: ["DT_LOG_LEVEL": "nonsense"])).logLevel, .info)
        XCTAssertEqual(Logger.json(config: ServiceConfig(name: "a", environment: [:])).logLevel, .info)
    }
}
