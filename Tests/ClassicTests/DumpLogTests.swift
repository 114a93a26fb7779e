import Foundation
import Ledger
import ServiceCore
import XCTest

@testable import ClassicCore

final class DumpLogTests: ClassicTestCase {
    /// A copy of the course's logfile.xsd with the semester window widened to 2020–2100.
    func widenedSchema() throws -> URL {
        // The course's schema is kept in the repository (data/classic/schema).
        guard let repo = TestEnv.value("DT_TEST_REPO") else {
            throw XCTSkipFailure("DT_TEST_REPO is not set: run through scripts/test")
        }
        let path = repo + "/data/classic/schema/logfile.xsd"
        var xsd = try String(contentsOfFile: path, encoding: .utf8)
        xsd = xsd.replacingOccurrences(
            of: #"<xsd:minInclusive value="\d+"/>"#, with: #"<xsd:minInclusive value="1577836800000"/>"#,
            options: .regularExpression)
        xsd = xsd.replacingOccurrences(
            of: #"<xsd:maxInclusive value="\d+"/>"#, with: #"<xsd:maxInclusive value="4102444800000"/>"#,
            options: .regularExpression)
        XCTAssertTrue(xsd.contains("1577836800000") && xsd.contains("4102444800000"), "window rewritten")
        let out = FileManager.default.temporaryDirectory.appendingPathComponent(
            "classic-logfile-\(UUID().uuidString).xsd")
        try xsd.write(to: out, atomically: true, encoding: .utf8)
        return out
    }

    /// Runs the dump into a temp file (chunk by chunk, as a streaming sink would).
    func dump(_ plan: ClassicEngine.DumpPlan, pageSize: Int = 5000) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("classic-dump-\(UUID().uuidString).xml")
        XCTAssertTrue(FileManager.default.createFile(atPath: url.path, contents: nil))
        let handle = try FileHandle(forWritingTo: url)
        var chunks = 0
        try ClassicEngine.writeDump(plan, db: db, pageSize: pageSize) { bytes in
            chunks += 1
            try handle.write(contentsOf: Data(bytes))
        }
        try handle.close()
        XCTAssertGreaterThanOrEqual(chunks, 1)
        return url
    }

    func xmllint(_ xml: URL, _ xsd: URL, file: StaticString = #filePath, line: UInt = #line) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/xmllint")
        p.arguments = ["--noout", "--schema", xsd.path, xml.path]
        let err = Pipe()
        p.standardError = err
        try p.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "xmllint: \(text.prefix(2000))", file: file, line: line)
        XCTAssertTrue(text.contains("validates"), text, file: file, line: line)
    }

    func beginDump(
        _ user: String?, caller: String, admin: Bool, filename: String = "./testLOG",
        txn: Int64? = nil
    ) throws -> Result<ClassicEngine.DumpPlan, ClassicError> {
        try engine.beginDump(
            ClassicRequest(.DUMPLOG, userid: user, filename: filename, transactionNum: txn),
            callerName: caller, callerIsAdmin: admin, db: db)
    }

    /// A user with every kind of entry: commands, a quote hit, money moves, errors, expiry, a firing.
    func busyUser() throws -> String {
        let u = try newUser(cash: 100_000)
        let sym = try newSymbol(price: 1234)
        let two = try newSymbol(price: 500)
        try ok(.QUOTE, u, stock: sym)
        try ok(.BUY, u, stock: sym, amount: "100.00")
        try ok(.COMMIT_BUY, u)
        try ok(.BUY, u, stock: sym, amount: "50.00")
        try ok(.SELL, u, stock: sym, amount: "24.68")
        clock.advance(60_000) // both pending orders expire: systemEvents + accountTransaction
        try fails(.COMMIT_BUY, u, .NO_PENDING_BUY)
        try ok(.SET_BUY_AMOUNT, u, stock: two, amount: "20.00")
        try ok(.SET_BUY_TRIGGER, u, stock: two, amount: "6.00")
        try ok(.QUOTE, u, stock: two) // fresh hit at 5.00 fires the trigger
        try fails(.ADD, u, amount: "-73280.58", .INVALID_ARGUMENT)
        try fails(.SELL, u, stock: "ABCD", amount: "1.00", .INVALID_ARGUMENT)
        try ok(.DISPLAY_SUMMARY, u)
        return u
    }

    func testPerUserDumpValidatesAgainstTheSchema() throws {
        let u = try busyUser()
        let xsd = try widenedSchema()
        let plan = try beginDump(u, caller: u, admin: false, filename: "./a&b<c>.xml").get()
        let url = try dump(plan, pageSize: 7) // several pages
        try xmllint(url, xsd)
        let xml = try String(contentsOf: url, encoding: .utf8)
        let logged = try log(u).filter { $0.command != .DUMPLOG }
        for kind in AuditKind.allCases where kind != .debugEvent {
            let inXML = xml.components(separatedBy: "<\(kind.rawValue)>").count - 1
            XCTAssertEqual(inXML, logged.filter { $0.kind == kind }.count, "\(kind) entries")
            XCTAssertGreaterThan(inXML, 0, "the busy user has \(kind) entries")
        }
        XCTAssertTrue(xml.contains("<funds>-73280.58</funds>"))
        XCTAssertTrue(xml.contains("<price>12.34</price>"))
        XCTAssertFalse(xml.contains("<stockSymbol>ABCD"), "an invalid symbol never reaches stockSymbol")
        XCTAssertFalse(xml.contains("<command>DUMPLOG</command>"), "the dump holds what was logged before it")
        // The DUMPLOG itself is logged, with its filename escaped, and shows in the next dump.
        let next = try dump(try beginDump(u, caller: u, admin: false).get())
        try xmllint(next, xsd)
        let again = try String(contentsOf: next, encoding: .utf8)
        XCTAssertTrue(again.contains("<filename>./a&amp;b&lt;c&gt;.xml</filename>"))
        XCTAssertFalse(again.contains(u + "x"))
    }

    func testUnknownUserGetsAnEmptyLog() throws {
        let ghost = newUserName()
        let plan = try beginDump(ghost, caller: "admin", admin: true).get()
        let url = try dump(plan)
        XCTAssertEqual(
            try String(contentsOf: url, encoding: .utf8), "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<log/>\n")
        try xmllint(url, try widenedSchema())
        XCTAssertEqual(try log(ghost).map(\.command), [.DUMPLOG], "the DUMPLOG is still logged")
    }

    func testWholeSystemDumpNeedsAdmin() throws {
        let u = try newUser(cash: 100)
        let n = txn()
        let r = try beginDump(nil, caller: u, admin: false, txn: n)
        guard case .failure(let e) = r else { return XCTFail("a non-admin whole-system DUMPLOG must fail") }
        XCTAssertEqual(e.code, .FORBIDDEN)
        XCTAssertEqual(e.code.httpStatus, 403)
        XCTAssertEqual(try entries(n, u).map(\.kind), [.userCommand, .errorEvent])

        let busy = try busyUser()
        let plan = try beginDump(nil, caller: "admin", admin: true).get()
        XCTAssertNil(plan.username)
        let url = try dump(plan)
        try xmllint(url, try widenedSchema())
        let xml = try String(contentsOf: url, encoding: .utf8)
        XCTAssertTrue(xml.contains("<username>\(busy)</username>"))
        XCTAssertTrue(xml.contains("<username>\(u)</username>"))
    }
}
