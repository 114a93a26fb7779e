import XCTest
@testable import ServiceCore

/// Secrets reach the clients from their own variables and have no defaults.
final class ServiceConfigSecretsTests: XCTestCase {
    func testEmptyOrMissingSecretsAreNil() {
        let config = ServiceConfig(name: "t", environment: ["DT_PG_PASSWORD": ""])
        XCTAssertNil(config.secret("DT_PG_PASSWORD"))
        XCTAssertNil(config.secret("DT_REDIS_PASSWORD"))
        XCTAssertNil(config.redis.password)
        XCTAssertNil(config.internalProof)
        XCTAssertFalse(config.postgresConnInfo.contains("password"))
    }

    func testPasswordsJoinTheirConnections() {
        let config = ServiceConfig(name: "t", environment: [
            "DT_PG": "host=db port=5432 dbname=daytrade user=daytrade", "DT_PG_PASSWORD": #"it's a \ pass"#,
            "DT_REDIS": "cache:6380", "DT_REDIS_PASSWORD": "r-pass", "DT_INTERNAL_KEY": "k",
        ])
        XCTAssertEqual(config.postgresConnInfo, #"host=db port=5432 dbname=daytrade user=daytrade password='it\'s a \\ pass'"#)
        XCTAssertEqual(config.redis.endpoint, Endpoint(host: "cache", port: 6380))
        XCTAssertEqual(config.redis.password, "r-pass")
        XCTAssertNotNil(config.internalProof)
    }
}
