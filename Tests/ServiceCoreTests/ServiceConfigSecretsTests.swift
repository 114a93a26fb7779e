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
        let config = ServiceConfig(
            name: "t",
            environment: [
                "DT_PG": "host=db port=5432 dbname=daytrade user=daytrade", "DT_PG_PASSWORD": #"it's a \ pass"#,
                "DT_REDIS": "cache:6380", "DT_REDIS_PASSWORD": "r-pass", "DT_INTERNAL_KEY": "k",
            ])
        XCTAssertEqual(
            config.postgresConnInfo,
            #"host=db port=5432 dbname=daytrade user=daytrade"#
                + PGConnInfo.defaults.map { " \($0.key)=\($0.value)" }.joined() + #" password='it\'s a \\ pass'"#)
        XCTAssertEqual(config.redis.endpoint, Endpoint(host: "cache", port: 6380))
        XCTAssertEqual(config.redis.password, "r-pass")
        XCTAssertNotNil(config.internalProof)
    }

    /// A multi-host DT_PG keeps its own settings; only the missing defaults are added, so a
    /// promoted standby is found (read-write) and a dead host costs seconds.
    func testConnInfoDefaultsFillOnlyWhatIsMissing() {
        let config = ServiceConfig(
            name: "t",
            environment: [
                "DT_PG": "host=a,b,c port=1,2,3 dbname=d user=u connect_timeout=7"
            ])
        let info = config.postgresConnInfo
        let keys = PGConnInfo.keys(of: info)
        XCTAssertTrue(info.hasPrefix("host=a,b,c port=1,2,3 dbname=d user=u connect_timeout=7 "))
        XCTAssertEqual(info.components(separatedBy: "connect_timeout=").count, 2, "the given timeout is not repeated")
        XCTAssertTrue(info.contains("target_session_attrs=read-write"))
        XCTAssertTrue(keys.isSuperset(of: ["host", "port", "tcp_user_timeout", "keepalives_idle"]))
        // Something libpq cannot parse is passed through untouched (connecting reports it).
        XCTAssertEqual(PGConnInfo.withDefaults("host='unterminated"), "host='unterminated")
    }
}
