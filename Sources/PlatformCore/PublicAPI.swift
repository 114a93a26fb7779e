import ServiceCore

/// Every public route of DayTrade (what nginx exposes), as one table: the matching engine
/// registers its routes from `PublicAPI.engine`, and the OpenAPI test checks openapi.yaml
/// against the whole table in both directions.
public struct APIRoute: Sendable, Hashable {
    public let method: String
    public let path: String
    public init(_ method: String, _ path: String) {
        self.method = method
        self.path = path
    }
}

public enum PublicAPI {
    /// Served by the matching engine (through the gateway, which sets the x-user-* headers).
    public enum Engine {
        public static let createStock = APIRoute("POST", "/setup/createStock")
        public static let addStockToUser = APIRoute("POST", "/setup/addStockToUser")
        public static let getStockPrices = APIRoute("GET", "/transaction/getStockPrices")
        public static let getStockPortfolio = APIRoute("GET", "/transaction/getStockPortfolio")
        public static let addMoneyToWallet = APIRoute("POST", "/transaction/addMoneyToWallet")
        public static let getWalletBalance = APIRoute("GET", "/transaction/getWalletBalance")
        public static let getWalletTransactions = APIRoute("GET", "/transaction/getWalletTransactions")
        public static let getStockTransactions = APIRoute("GET", "/transaction/getStockTransactions")
        public static let placeStockOrder = APIRoute("POST", "/engine/placeStockOrder")
        public static let cancelStockTransaction = APIRoute("POST", "/engine/cancelStockTransaction")
        public static let amendStockOrder = APIRoute("POST", "/engine/amendStockOrder")
        public static let getDepth = APIRoute("GET", "/engine/depth")
        public static let streamTicket = APIRoute("POST", "/engine/streamTicket")
        /// Server-Sent Events, served by the market-stream service (nginx routes it there, no gateway
        /// hop); authenticated by a ticket in the query, not the token header.
        public static let stream = APIRoute("GET", "/engine/stream")

        public static let all: [APIRoute] = [
            createStock, addStockToUser, getStockPrices, getStockPortfolio, addMoneyToWallet, getWalletBalance,
            getWalletTransactions, getStockTransactions, placeStockOrder, cancelStockTransaction, amendStockOrder,
            getDepth, streamTicket, stream,
        ]
    }

    /// Served by the auth service (public: no token needed).
    public static let authentication: [APIRoute] = [
        APIRoute("POST", "/authentication/register"),
        APIRoute("POST", "/authentication/login"),
    ]

    /// Classic commands by the service the gateway routes them to (deploy/topology.json).
    public static var classicByService: [(service: String, commands: [String])] { Topology.classicCommands }

    public static var classic: [APIRoute] {
        classicByService.flatMap { $0.commands.map { APIRoute("POST", "/classic/\($0)") } }
    }

    /// Liveness of the service that answers (every service has it; nginx's own is /nginx-health).
    public static let operations: [APIRoute] = [APIRoute("GET", "/health")]

    public static var all: [APIRoute] { authentication + Engine.all + classic + operations }
}
