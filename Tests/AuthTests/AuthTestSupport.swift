import Foundation
import Ledger
import ServiceCore
import XCTest

@testable import AuthCore
@testable import ServiceCore

/// The auth handlers in-process, over the test stack's PostgreSQL and Redis (scripts/test).
class AuthHandlerTestCase: XCTestCase {
    static let secret = "auth-handler-tests-secret"
    var ctx: WorkerContext!
    var router: Router!
    /// Low cost so the tests stay fast; the format carries it, so rehash is testable too.
    let hasher = PasswordHasher(iterations: 64)

    override func setUpWithError() throws {
        guard let pg = Self.value("DT_TEST_PG"), let redis = Self.value("DT_TEST_REDIS") else {
            throw MissingEnvironment(description: "DT_TEST_PG/DT_TEST_REDIS not set: run through scripts/test")
        }
        let env = ["DT_PG": pg, "DT_REDIS": redis, "DT_REDIS_PASSWORD": Self.value("DT_TEST_REDIS_PASSWORD") ?? ""]
        ctx = WorkerContext(config: ServiceConfig(name: "auth-test", environment: env), index: 0)
        try Migrator.apply(LedgerSchema.migrations, on: try ctx.postgres())
        router = Router()
        handlers.install(on: router)
    }

    var handlers: AuthHandlers {
        AuthHandlers(
            hasher: hasher, jwt: JWT(secret: Self.secret), tokenTTLSeconds: 600,
            logger: Logger(label: "auth-test"))
    }

    static func value(_ key: String) -> String? {
        let v = ProcessInfo.processInfo.environment[key]
        return (v?.isEmpty ?? true) ? nil : v
    }

    static func uniqueName(_ prefix: String) -> String {
        "\(prefix)\(UInt32.random(in: 0...UInt32.max))"
    }

    /// Dispatches through the router as the server would, thrown errors mapped as the server maps them.
    func call(_ method: String, _ path: String, _ body: String = "", headers: [(String, String)] = []) throws -> (
        status: Int, json: JSON?
    ) {
        let req = HTTPRequest(
            method: method, path: path, headers: headers.map { (name: $0.0, value: $0.1) }, body: Array(body.utf8))
        guard case .found(let route) = router.match(method: method, path: path) else {
            XCTFail("no route for \(method) \(path)")
            return (404, nil)
        }
        do {
            let r = try route.handler(req, ctx)
            return (r.status, try? JSON.parse(r.body))
        } catch {
            let r = HTTPResponse.forError(error, route: path, logger: Logger(label: "test"))
            return (r.status, try? JSON.parse(r.body))
        }
    }

    func register(_ user: String, _ password: String, name: String = "Test User") throws -> Int {
        try call(
            "POST", "/authentication/register",
            #"{"user_name":"\#(user)","password":"\#(password)","name":"\#(name)"}"#
        ).status
    }

    func login(_ user: String, _ password: String) throws -> (status: Int, json: JSON?) {
        try call("POST", "/authentication/login", #"{"user_name":"\#(user)","password":"\#(password)"}"#)
    }
}

struct MissingEnvironment: Error, CustomStringConvertible {
    let description: String
}
