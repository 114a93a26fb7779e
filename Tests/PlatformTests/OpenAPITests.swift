import Foundation
import PlatformCore
import ServiceCore
import XCTest

/// openapi.yaml documents exactly the public routes the code serves: the engine's routes (as it
/// registers them), the auth routes and classic commands the gateway routes, and /health.
final class OpenAPITests: XCTestCase {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// (METHOD, path) pairs under `paths:` in openapi.yaml.
    static func documentedRoutes() throws -> Set<APIRoute> {
        let text = try String(contentsOf: repo.appendingPathComponent("openapi.yaml"), encoding: .utf8)
        var routes = Set<APIRoute>()
        var inPaths = false
        var current: String?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("paths:") { inPaths = true; continue }
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
        XCTAssertEqual(code.count, 33, "2 auth + 13 platform + 17 classic + /health")
        let undocumented = code.subtracting(documented).map { "\($0.method) \($0.path)" }.sorted()
        let unserved = documented.subtracting(code).map { "\($0.method) \($0.path)" }.sorted()
        XCTAssertEqual(undocumented, [], "routes in the code missing from openapi.yaml")
        XCTAssertEqual(unserved, [], "routes in openapi.yaml that nothing serves")
    }

    func testEngineRegistersExactlyThePlatformTable() {
        let router = Router()
        let engine = MatchingEngine(connInfo: "", redis: RedisTarget(Endpoint(host: "127.0.0.1", port: 1), password: nil), logger: Logger.json(service: "test"))
        PlatformHTTP.register(on: router, engine: engine, allowReset: true, tickets: StreamTicket(key: Array("k".utf8)))
        let registered = Set(router.routes.filter { !$0.path.hasPrefix("/internal/") }.map { APIRoute($0.method, $0.path) })
        XCTAssertEqual(registered, Set(PublicAPI.Engine.all))
        // The gateway sends these three prefixes to the engine; every platform route uses one.
        for r in PublicAPI.Engine.all {
            XCTAssertTrue(["/setup/", "/transaction/", "/engine/"].contains { r.path.hasPrefix($0) }, r.path)
        }
        // Internal routes never reach the public: the gateway routes no /internal/ prefix.
        XCTAssertTrue(router.routes.contains { $0.path == "/internal/reset" })
        XCTAssertTrue(PublicAPI.all.allSatisfy { !$0.path.hasPrefix("/internal/") })
    }

    /// The gateway's own routing table names the same classic commands and public auth paths.
    func testGatewayRouteTableMatches() throws {
        let source = try String(contentsOf: Self.repo.appendingPathComponent("Sources/GatewayCore/RouteTable.swift"), encoding: .utf8)
        let literals = Set(source.matches(of: /"([A-Za-z_\/]+)"/).map { String($0.output.1) })
        let commands = Set(literals.filter { $0.allSatisfy { $0.isUppercase || $0 == "_" } })
        XCTAssertEqual(commands, Set(PublicAPI.classicByService.flatMap(\.commands)))
        let authPaths = Set(literals.filter { $0.hasPrefix("/authentication/") && $0 != "/authentication/" })
        XCTAssertEqual(authPaths, Set(PublicAPI.authentication.map(\.path)))
    }
}
