import Foundation
import PlatformCore
import ServiceCore
import StreamCore
import XCTest

/// openapi.yaml documents exactly the public routes the code serves: the engine's routes (as it
/// registers them), the auth routes and classic commands the gateway routes, and /health.
final class OpenAPITests: XCTestCase {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// (METHOD, path) pairs under `paths:` in openapi.yaml.
    static func documentedRoutes() throws -> Set<APIRoute> {
        let text = try String(contentsOf: repo.appendingPathComponent("openapi.yaml"), encoding: .utf8)
        var routes = Set<APIRoute>()
        var inPaths = false
        var current: String?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("paths:") {
                inPaths = true
                continue
            }
            if inPaths && !line.isEmpty && !line.hasPrefix(" ") { break }
            guard inPaths else { continue }
            if line.hasPrefix("  /") && !line.hasPrefix("   ") && line.hasSuffix(":") {
                current = String(line.dropFirst(2).dropLast())
            } else if let path = current, line.hasPrefix("    ") && !line.hasPrefix("     ") && line.hasSuffix(":") {
                let method = line.trimmingCharacters(in: .whitespaces).dropLast()
                if ["get", "post", "put", "delete", "patch"].contains(String(method)) {
                    routes.insert(APIRoute(method.uppercased(), path))
                }
            }
        }
        return routes
    }

    func testEveryPublicRouteIsDocumentedAndNothingElse() throws {
        let documented = try Self.documentedRoutes()
        let code = Set(PublicAPI.all)
        XCTAssertEqual(code.count, 34, "2 auth + 14 platform + 17 classic + /health")
        let undocumented = code.subtracting(documented).map { "\($0.method) \($0.path)" }.sorted()
        let unserved = documented.subtracting(code).map { "\($0.method) \($0.path)" }.sorted()
        XCTAssertEqual(undocumented, [], "routes in the code missing from openapi.yaml")
        XCTAssertEqual(unserved, [], "routes in openapi.yaml that nothing serves")
    }

    func testEngineRegistersExactlyThePlatformTable() {
        let router = Router()
        let engine = MatchingEngine(
            connInfo: "", redis: RedisTarget(Endpoint(host: "127.0.0.1", port: 1), password: nil),
            logger: Logger.json(service: "test"))
        PlatformHTTP.register(on: router, engine: engine, allowReset: true, tickets: StreamTicket(key: Array("k".utf8)))
        let registered = Set(
            router.routes.filter { !$0.path.hasPrefix("/internal/") }.map { APIRoute($0.method, $0.path) })
        // All but the event stream, which the market-stream service serves (nginx routes it there).
        XCTAssertEqual(registered, Set(PublicAPI.Engine.all).subtracting([PublicAPI.Engine.stream]))
        XCTAssertEqual(StreamEndpoint.path, PublicAPI.Engine.stream.path)
        // The gateway sends these three prefixes to the engine; every platform route uses one.
        for r in PublicAPI.Engine.all {
            XCTAssertTrue(["/setup/", "/transaction/", "/engine/"].contains { r.path.hasPrefix($0) }, r.path)
        }
        // Internal routes never reach the public: the gateway routes no /internal/ prefix.
        XCTAssertTrue(router.routes.contains { $0.path == "/internal/reset" })
        XCTAssertTrue(PublicAPI.all.allSatisfy { !$0.path.hasPrefix("/internal/") })
    }

    /// The public paths the gateway lets through without a token (deploy/topology.json) are the
    /// auth ones; the event stream (authenticated by its ticket) goes from nginx to market-stream.
    func testGatewayPublicPathsAreTheAuthenticationRoutes() {
        XCTAssertEqual(Set(Topology.publicPaths), Set(PublicAPI.authentication.map(\.path)))
        XCTAssertEqual(Topology.marketStream.ports.first, 8800)
    }
}
