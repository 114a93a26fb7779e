import ServiceCore

/// What one virtual user knows between steps (JMeter's thread variables).
final class UserState {
    let creds: UserCreds
    var token = ""
    var googleId: String
    var appleId: String
    var stockTxId = ""
    var walletTxId = ""

    init(creds: UserCreds, googleId: String, appleId: String) {
        self.creds = creds
        self.googleId = googleId
        self.appleId = appleId
    }
}

/// One sampler of the plan: request, the constant timer before it, and its assertions.
struct Step: Sendable {
    let label: String
    let pauseMillis: Int
    let method: String
    let path: String
    let withToken: Bool
    let body: @Sendable (UserState) -> String?
    /// JSONPath checks (string form must equal) computed from the user's variables.
    let expect: @Sendable (UserState) -> [(String, String)]
    /// Variables to extract after the checks: (JSONPath, setter).
    let extract: @Sendable (JSON?, UserState) -> Void

    init(
        _ label: String, pause: Int = 500, _ method: String, _ path: String, token: Bool = true,
        body: @escaping @Sendable (UserState) -> String? = { _ in nil },
        expect: @escaping @Sendable (UserState) -> [(String, String)] = { _ in [] },
        extract: @escaping @Sendable (JSON?, UserState) -> Void = { _, _ in }
    ) {
        self.label = label
        self.pauseMillis = pause
        self.method = method
        self.path = path
        self.withToken = token
        self.body = body
        self.expect = expect
        self.extract = extract
    }

    /// JMeter's verdict: a non-2xx/3xx code fails the sample (no plan step asserts a 4xx), and so
    /// does any JSON assertion that misses. Returns nil when the sample passed.
    func verdict(status: Int, json: JSON?, state: UserState) -> String? {
        guard (200..<400).contains(status) else { return "HTTP \(status)" }
        for (path, want) in expect(state) {
            let got = FlowJSON.text(FlowJSON.resolve(json, path))
            if got != want { return "\(path) = \(got ?? "<missing>"), expected \(want)" }
        }
        return nil
    }
}

enum FlowJSON {
    static func resolve(_ root: JSON?, _ path: String) -> JSON? { root?.at(path) }

    static func text(_ v: JSON?) -> String? { v?.assertionText }

    static func quote(_ s: String) -> String { JSON.string(s).serialized() }
}

/// The plans' requests, labels and assertions (TestRun3 v3).
enum Plan {
    static func success(_ v: String = "true") -> @Sendable (UserState) -> [(String, String)] {
        { _ in [("$.success", v)] }
    }

    /// InitialSetup.jmx, steps 1–13 (the company user VanguardETF).
    static let initialSetup: [Step] = [
        Step(
            "1 Register Request", "POST", "/authentication/register", token: false,
            body: { _ in #"{"user_name":"VanguardETF", "password":"Vang@123", "name":"Vanguard Corp."}"# },
            expect: success()),
        Step(
            "2 Register Request", "POST", "/authentication/register", token: false,
            body: { _ in #"{"user_name":"VanguardETF", "password":"Comp@124", "name":"Vanguard Ltd."}"# },
            expect: success("false")),
        Step(
            "3 Failed Login Request", "POST", "/authentication/login", token: false,
            body: { _ in #"{"user_name":"VanguardETF", "password":"Vang@1234"}"# }, expect: success("false")),
        Step(
            "4 Login Request", "POST", "/authentication/login", token: false,
            body: { _ in #"{"user_name":"VanguardETF", "password":"Vang@123"}"# }, expect: success(),
            extract: { j, s in s.token = FlowJSON.text(FlowJSON.resolve(j, "$.data.token")) ?? "" }),
        Step(
            "5 Create Google Stock Request", "POST", "/setup/createStock", body: { _ in #"{"stock_name":"Google"}"# },
            expect: success(),
            extract: { j, s in s.googleId = FlowJSON.text(FlowJSON.resolve(j, "$.data.stock_id")) ?? "" }),
        Step(
            "6 Add Google Stock Request", "POST", "/setup/addStockToUser",
            body: { s in "{\"stock_id\": \"\(s.googleId)\",\r\n\"quantity\": 12488000000}" }, expect: success()),
        Step(
            "7 Create Apple Stock Request", "POST", "/setup/createStock", body: { _ in #"{"stock_name":"Apple"}"# },
            expect: success(),
            extract: { j, s in s.appleId = FlowJSON.text(FlowJSON.resolve(j, "$.data.stock_id")) ?? "" }),
        Step(
            "8 Add Apple Stock Request", "POST", "/setup/addStockToUser",
            body: { s in "{\"stock_id\": \"\(s.appleId)\",\r\n\"quantity\": 15509763000}" }, expect: success()),
        Step(
            "9 Get Stock Portfolio Request", "GET", "/transaction/getStockPortfolio",
            expect: { s in
                [
                    ("$.success", "true"), ("$.data[0].stock_id", s.googleId), ("$.data[0].stock_name", "Google"),
                    ("$.data[0].quantity_owned", "12488000000"), ("$.data[1].stock_id", s.appleId),
                    ("$.data[1].stock_name", "Apple"),
                    ("$.data[1].quantity_owned", "15509763000"),
                ]
            }),
        Step(
            "10 Place Stock Order Request", "POST", "/engine/placeStockOrder",
            body: { s in
                "{\"stock_id\":\"\(s.googleId)\", \"is_buy\":false, \"order_type\":\"LIMIT\", \"quantity\":12488000000,\r\n\"price\":135}"
            },
            expect: success()),
        Step(
            "11 Place Stock Order Request", "POST", "/engine/placeStockOrder",
            body: { s in
                "{\"stock_id\":\"\(s.appleId)\", \"is_buy\":false, \"order_type\":\"LIMIT\", \"quantity\":15509763000,\r\n\"price\":140}"
            },
            expect: success()),
        Step(
            "12 Get Stock Portfolio Request", "GET", "/transaction/getStockPortfolio",
            expect: { _ in [("$.success", "true"), ("$.data", "[]")] }),
        Step(
            "13 Get Stock Transactions Request", "GET", "/transaction/getStockTransactions",
            expect: { s in
                [
                    ("$.success", "true"), ("$.data[0].parent_stock_tx_id", "null"), ("$.data[0].stock_id", s.googleId),
                    ("$.data[0].order_status", "IN_PROGRESS"), ("$.data[0].is_buy", "false"),
                    ("$.data[0].order_type", "LIMIT"),
                    ("$.data[0].stock_price", "135"), ("$.data[0].quantity", "12488000000"),
                    ("$.data[1].parent_stock_tx_id", "null"), ("$.data[1].stock_id", s.appleId),
                    ("$.data[1].order_status", "IN_PROGRESS"), ("$.data[1].is_buy", "false"),
                    ("$.data[1].order_type", "LIMIT"),
                    ("$.data[1].stock_price", "140"), ("$.data[1].quantity", "15509763000"),
                ]
            }),
    ]

    /// UserThreadTest.jmx, steps 14–23 (one virtual user per CSV row).
    static let userThread: [Step] = [
        Step(
            "14 Register Request", "POST", "/authentication/register", token: false,
            body: { s in
                "{\"user_name\":\(FlowJSON.quote(s.creds.username)), \"password\":\(FlowJSON.quote(s.creds.password)), \"name\":\(FlowJSON.quote(s.creds.name))}"
            }, expect: success()),
        Step(
            "15 Login Request", "POST", "/authentication/login", token: false,
            body: { s in
                "{\"user_name\":\(FlowJSON.quote(s.creds.username)), \"password\":\(FlowJSON.quote(s.creds.password))}"
            }, expect: success(),
            extract: { j, s in s.token = FlowJSON.text(FlowJSON.resolve(j, "$.data.token")) ?? "" }),
        Step(
            "16 Get Stock Prices Request", "GET", "/transaction/getStockPrices",
            expect: { s in
                [
                    ("$.success", "true"), ("$.data[0].stock_id", s.googleId), ("$.data[0].stock_name", "Google"),
                    ("$.data[0].current_price", "135"), ("$.data[1].stock_id", s.appleId),
                    ("$.data[1].stock_name", "Apple"),
                    ("$.data[1].current_price", "140"),
                ]
            }),
        Step(
            "17 Add Money Request", "POST", "/transaction/addMoneyToWallet", body: { _ in #"{"amount":10000}"# },
            expect: success()),
        Step(
            "18 Get Wallet Balance Request", "GET", "/transaction/getWalletBalance",
            expect: { _ in [("$.success", "true"), ("$.data.balance", "10000")] }),
        Step(
            "19 Place Stock Order Request", "POST", "/engine/placeStockOrder",
            body: { s in
                "{\"stock_id\":\"\(s.googleId)\", \"is_buy\":true, \"order_type\":\"MARKET\", \"quantity\":10, \"price\":null}"
            }, expect: success()),
        Step(
            "20 Get Stock Transactions Request", pause: 5000, "GET", "/transaction/getStockTransactions",
            expect: { s in
                [
                    ("$.success", "true"), ("$.data[0].parent_stock_tx_id", "null"), ("$.data[0].stock_id", s.googleId),
                    ("$.data[0].order_status", "COMPLETED"), ("$.data[0].is_buy", "true"),
                    ("$.data[0].order_type", "MARKET"),
                    ("$.data[0].stock_price", "135"), ("$.data[0].quantity", "10"),
                ]
            },
            extract: { j, s in
                s.stockTxId = FlowJSON.text(FlowJSON.resolve(j, "$.data[0].stock_tx_id")) ?? ""
                s.walletTxId = FlowJSON.text(FlowJSON.resolve(j, "$.data[0].wallet_tx_id")) ?? ""
            }),
        Step(
            "21 Get Wallet Transactions Request", "GET", "/transaction/getWalletTransactions",
            expect: { s in
                [
                    ("$.success", "true"), ("$.data[0].wallet_tx_id", s.walletTxId),
                    ("$.data[0].stock_tx_id", s.stockTxId),
                    ("$.data[0].is_debit", "true"), ("$.data[0].amount", "1350"),
                ]
            }),
        Step(
            "22 Get Wallet Balance Request", "GET", "/transaction/getWalletBalance",
            expect: { _ in [("$.success", "true"), ("$.data.balance", "8650")] }),
        Step(
            "23 Get Stock Portfolio Request", "GET", "/transaction/getStockPortfolio",
            expect: { s in
                [
                    ("$.success", "true"), ("$.data[0].stock_id", s.googleId), ("$.data[0].stock_name", "Google"),
                    ("$.data[0].quantity_owned", "10"),
                ]
            }),
    ]

    /// The request bytes of a step (keep-alive, JSON content type on every request as JMeter sends).
    static func request(_ step: Step, _ s: UserState, host: String, port: Int) -> [UInt8] {
        let body = step.body(s).map { Array($0.utf8) } ?? []
        var head = "\(step.method) \(step.path) HTTP/1.1\r\nHost: \(host):\(port)\r\nContent-Type: application/json\r\n"
        head += "Connection: keep-alive\r\nUser-Agent: dts-load\r\n"
        if step.withToken { head += "token: \(s.token)\r\n" }
        head += "Content-Length: \(body.count)\r\n\r\n"
        return Array(head.utf8) + body
    }
}
