import ServiceCore
import XCTest

@testable import GatewayCore

final class RouteTableTests: XCTestCase {
    func testPathsMapToTheirGroupsAndOnlyRegisterAndLoginArePublic() {
        XCTAssertEqual(RouteTable.decide("/authentication/login"), RouteDecision(group: .auth, isPublic: true))
        XCTAssertEqual(RouteTable.decide("/authentication/register"), RouteDecision(group: .auth, isPublic: true))
        XCTAssertEqual(RouteTable.decide("/authentication/whoami"), RouteDecision(group: .auth, isPublic: false))
        XCTAssertEqual(
            RouteTable.decide("/transaction/getWalletBalance"), RouteDecision(group: .engine, isPublic: false))
        XCTAssertEqual(RouteTable.decide("/setup/createStock")?.group, .engine)
        XCTAssertEqual(RouteTable.decide("/engine/placeStockOrder")?.group, .engine)
        // The event stream is market-stream's (nginx routes it there); at a gateway it needs a token.
        XCTAssertEqual(RouteTable.decide("/engine/stream"), RouteDecision(group: .engine, isPublic: false))
        XCTAssertEqual(RouteTable.decide("/engine/streamTicket"), RouteDecision(group: .engine, isPublic: false))
        XCTAssertEqual(RouteTable.decide("/engine/stream/"), RouteDecision(group: .engine, isPublic: false))
        XCTAssertEqual(RouteTable.decide("/classic/QUOTE")?.group, .util)
        XCTAssertEqual(RouteTable.decide("/classic/COMMIT_BUY")?.group, .buy)
        XCTAssertEqual(RouteTable.decide("/classic/SET_SELL_TRIGGER")?.group, .sell)
        XCTAssertNil(RouteTable.decide("/classic/NOPE"))
        XCTAssertNil(RouteTable.decide("/classic/quote"), "classic command names are case-sensitive")
        XCTAssertNil(RouteTable.decide("/gateway/status"))
        XCTAssertNil(RouteTable.decide("/"))
    }
}

/// The generated table agrees with the topology every other part reads (deploy/topology.json).
final class RouteTopologyTests: XCTestCase {
    func testEveryClassicCommandRoutesToTheServiceTheTopologyNames() {
        for (service, commands) in Topology.classicCommands {
            for command in commands {
                XCTAssertEqual(RouteTable.decide("/classic/" + command)?.group.service.name, service, command)
            }
        }
    }

    func testEveryGroupNamesAServiceOfTheTopologyAndItsLocalPortsAreTheDefault() throws {
        let names = Set(Topology.all.map(\.name))
        for group in UpstreamGroup.allCases {
            XCTAssertTrue(names.contains(group.service.name), "\(group)")
            let settings = GatewaySettings(ServiceConfig(name: "gateway", environment: [:]))
            XCTAssertEqual(settings.upstreams[group]?.map(\.port), group.service.ports, "\(group)")
        }
    }
}
