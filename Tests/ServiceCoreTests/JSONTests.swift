import ServiceCore
import XCTest

final class JSONTests: XCTestCase {
    func testRoundTripKeepsOrderAndExactNumbers() throws {
        let text = #"{"b":1,"a":[true,false,null],"big":15509763000,"s":"x\"y\\z\n\u00e9\ud83d\ude00","f":1.25}"#
        let v = try JSON.parse(text)
        XCTAssertEqual(v["big"]?.int64Value, 15_509_763_000)
        XCTAssertEqual(v["s"]?.stringValue, "x\"y\\z\né😀")
        XCTAssertNil(v["f"]?.int64Value)
        XCTAssertEqual(v["f"]?.centsValue, 125)
        XCTAssertEqual(try JSON.parse(v.serialized()), v)
        XCTAssertTrue(v.serialized().hasPrefix(#"{"b":1,"a":[true,false,null]"#))
    }

    func testRejectsMalformedInput() {
        for bad in [
            "", "{", "[1,]", "{\"a\" 1}", "01", "1.", "-", "\"\\x\"", "\"\u{01}\"", "nul", "[1] x", "\"\\ud800\"",
            String(repeating: "[", count: 100) + String(repeating: "]", count: 100),
        ] {
            XCTAssertThrowsError(try JSON.parse(bad), bad.debugDescription)
        }
    }

    func testARepeatedKeyIsRefusedAtAnySize() throws {
        XCTAssertThrowsError(try JSON.parse(#"{"amount":5,"amount":-5}"#)) {
            XCTAssertTrue("\($0)".contains(#"duplicate key "amount""#), "\($0)")
        }
        let many = (0..<40).map { #""k\#($0)":\#($0)"# }
        XCTAssertNoThrow(try JSON.parse("{" + many.joined(separator: ",") + "}"))
        XCTAssertThrowsError(try JSON.parse("{" + (many + [#""k3":0"#]).joined(separator: ",") + "}"))
        // Nested objects have their own keys.
        XCTAssertNoThrow(try JSON.parse(#"{"a":{"a":1},"b":{"a":2}}"#))
    }

    func testNumbersAreJudgedByValueNotSpelling() throws {
        func n(_ text: String) -> JSON { .number(text) }
        for text in ["100", "100.0", "1e2", "1E+2", "1.00E2", "10000e-2", "0.1e3"] {
            XCTAssertEqual(n(text).int64Value, 100, text)
            XCTAssertEqual(n(text).centsValue, 10_000, text)
        }
        XCTAssertEqual(n("1.100").centsValue, 110)
        XCTAssertEqual(n("5e-1").centsValue, 50)
        XCTAssertEqual(n("-2.5").centsValue, -250)
        XCTAssertNil(n("5e-1").int64Value)
        XCTAssertEqual(n("1.005").exact(scale: 2), .finer)
        XCTAssertEqual(n("0.000").exact(scale: 0), .value(0))
        XCTAssertEqual(n("9223372036854775807").exact(scale: 0), .value(.max))
        XCTAssertEqual(n("-9223372036854775807").exact(scale: 0), .value(-.max))
        XCTAssertEqual(n("9223372036854775808").exact(scale: 0), .outOfRange)
        XCTAssertEqual(n("92233720368547758.08").exact(scale: 2), .outOfRange)
        XCTAssertEqual(n("1e999999999999999999").exact(scale: 0), .outOfRange)
        XCTAssertEqual(n("-1e400").exact(scale: 2), .belowRange)
        XCTAssertEqual(n("1e-999999999999999999").exact(scale: 2), .finer)
        XCTAssertEqual(n("0e999999999").exact(scale: 2), .value(0))
        XCTAssertNil(JSON.string("5").exact(scale: 0))
    }

    func testJMeterPathsAndAssertionText() throws {
        let v = try JSON.parse(#"{"success":true,"data":[{"stock_id":"7","qty":10,"parent":null,"o":{"a":[1]}}]}"#)
        XCTAssertEqual(v.at("$.success")?.assertionText, "true")
        XCTAssertEqual(v.at("$.data[0].stock_id")?.assertionText, "7")
        XCTAssertEqual(v.at("$.data[0].qty")?.assertionText, "10")
        XCTAssertEqual(v.at("$.data[0].parent")?.assertionText, "null")
        XCTAssertEqual(v.at("$.data[0].o")?.assertionText, #"{"a":[1]}"#)
        XCTAssertEqual(v.at("$.data")?.at("$[0].o.a[0]"), .number("1"))
        XCTAssertNil(v.at("$.data[1]"))
        XCTAssertNil(v.at("$.missing"))
        XCTAssertNil(v.at("data"))
        XCTAssertNil(v.at("$.data[x]"))
    }

    func testControlCharactersAreEscaped() {
        XCTAssertEqual(JSON.string("a\u{01}b\tc").serialized(), #""a\u0001b\tc""#)
    }

    func testMoneyParsingIsExact() {
        XCTAssertEqual(Money.parseCents("10.5"), 1050)
        XCTAssertEqual(Money.parseCents("0.01"), 1)
        XCTAssertEqual(Money.parseCents("123"), 12300)
        XCTAssertEqual(Money.parseCents("-73280.58"), -7_328_058)
        XCTAssertNil(Money.parseCents("1.234"))
        XCTAssertNil(Money.parseCents("1e3"))
        XCTAssertNil(Money.parseCents("1."))
        XCTAssertNil(Money.parseCents(".5"))
        XCTAssertNil(Money.parseCents("abc"))
        XCTAssertNil(Money.parseCents("92233720368547758.08"))
        XCTAssertEqual(Money.format(7), "0.07")
        XCTAssertEqual(Money.format(-12345), "-123.45")
        XCTAssertEqual(Money.json(135_000), .number("1350"))
        XCTAssertEqual(Money.json(1050), .number("10.50"))
    }
}
