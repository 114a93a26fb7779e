import XCTest

@testable import ServiceCore

/// The router's exact-path table: every registered path is found with its own value, and a path
/// that differs by one byte, a prefix, or case is not (whatever the hashes collide on).
final class PathTableTests: XCTestCase {
    func testEveryPathIsFoundAndNearMissesAreNot() {
        let paths = (0..<300).map { "/service\($0 % 7)/route-\($0)" } + ["/", "/health", "/metrics", "/a", "/ab"]
        let table = PathTable(paths.enumerated().map { ($1, $0) })
        for (i, path) in paths.enumerated() {
            XCTAssertEqual(table.lookup(path), i, path)
            XCTAssertNil(table.lookup(path + "x"), path + "x")
            XCTAssertNil(table.lookup(String(path.dropLast()) + "\u{7e}"), path)
            if path.uppercased() != path { XCTAssertNil(table.lookup(path.uppercased()), path.uppercased()) }
        }
        XCTAssertNil(table.lookup(""))
        XCTAssertNil(table.lookup("/service1/route-"))
        // A long path (not a small string) takes the same way through.
        let long = "/" + String(repeating: "segment/", count: 40)
        XCTAssertEqual(PathTable([(long, 1)]).lookup(long), 1)
        XCTAssertNil(PathTable([(long, 1)]).lookup(long + "/"))
    }

    func testEmptyTableFindsNothing() {
        XCTAssertNil(PathTable<Int>().lookup("/"))
        XCTAssertNil(PathTable<Int>([]).lookup("/hello/"))
    }
}
