import Foundation
import ServiceCore
import XCTest

final class RedisTests: XCTestCase {
    private func connect() throws -> RedisConnection {
        guard let ep = Endpoint(try TestEnv.require("DT_TEST_REDIS")) else {
            throw RedisError(message: "bad DT_TEST_REDIS")
        }
        return try RedisConnection(ep, password: ProcessInfo.processInfo.environment["DT_TEST_REDIS_PASSWORD"])
    }

    func testBinarySafeCommandsAndPipelining() throws {
        let r = try connect()
        let key = "test:bin:\(UInt32.random(in: 0...UInt32.max))"
        let value: [UInt8] = [0, 1, 2, 13, 10, 255, 0]
        XCTAssertEqual(try r.commandBytes([Array("SET".utf8), Array(key.utf8), value]), .status("OK"))
        XCTAssertEqual(try r.commandBytes([Array("GET".utf8), Array(key.utf8)]), .string(value))
        let replies = try r.pipeline([
            ["DEL", key], ["INCRBY", key, "5"], ["INCR", key], ["GET", key + ":missing"], ["NOSUCHCMD"],
        ])
        XCTAssertEqual(replies.count, 5)
        XCTAssertEqual(replies[1].int, 5)
        XCTAssertEqual(replies[2].int, 6)
        XCTAssertEqual(replies[3], .null)
        if case .error = replies[4] {} else { XCTFail("expected an error reply, got \(replies[4])") }
        try r.command(["DEL", key])
    }

    func testReconnectsAfterRedisRestarts() throws {
        let restart = try TestEnv.require("DT_TEST_REDIS_RESTART")
        let r = try connect()
        XCTAssertEqual(try r.command(["PING"]), .status("PONG"))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", restart]
        try p.run()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "restart command failed")
        // The old socket is dead; the wrapper reconnects on its own.
        XCTAssertEqual(try r.command(["SET", "test:after-restart", "1"]), .status("OK"))
        XCTAssertEqual(try r.command(["GET", "test:after-restart"]).text, "1")
    }
}
