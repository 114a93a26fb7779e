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
