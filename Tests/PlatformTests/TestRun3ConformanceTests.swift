import Foundation
import ServiceCore
import XCTest

/// The final 2025 load plan, TestRun3 v3: InitialSetup.jmx once, then UserThreadTest.jmx for a
/// handful of users from a UserCreds-style CSV (header skipped, CRLF lines as shipped), all users
/// at once on their own threads, with every request and assertion of the plan (pauses omitted:
/// the engine answers after commit, so step 20 needs no 5 s grace).
final class TestRun3ConformanceTests: XCTestCase {
    /// The first rows of UserCreds_1000.csv, byte for byte (CRLF included).
    static let userCSV =
        "username,password,name\r\n" + "l1vlgda1scv6p3ajkup,Y9NW3M_6e7teQzGU@DpU7LZpBtjeuy,Wayne Gonzalez\r\n"
        + "atawwkzhuon8a5mxg27,Y34ZUW9c92LMAaQ@qUwqj@Xhu,Donna Boyd\r\n"
        + "4yo9vh7nrbl2e6,rz5ulswXUZeQPfn@iK,Jeremy Smith DDS\r\n" + "p2a5nut4a9mpvw,rwMmF@xtnUp@5i_T,Chloe Perez\r\n"
        + "9o0z9ewsqxvkklolyxkj,4AFUR0yt@Hd,Robin Johnson\r\n" + "92brd1n9sggnu,R_56GAbnOk2Yrj_8q,Emily Green\r\n"

    static func users() -> [(username: String, password: String, name: String)] {
        userCSV.split(whereSeparator: \.isNewline).dropFirst().compactMap { line in
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            return f.count == 3 ? (f[0], f[1], f[2]) : nil
        }
    }

    func testInitialSetupThenUserThreads() throws {
        try PTLedger.resetAll()
        let api = try PTClient()
        let (google, apple) = try initialSetup(api)

        let users = Self.users()
        XCTAssertEqual(users.count, 6)
        let failures = PTFailures()
        DispatchQueue.concurrentPerform(iterations: users.count) { i in
            let u = users[i]
            failures.collect("user \(u.username)") { try Self.userThread(api, u, google: google, apple: apple) }
        }
        XCTAssertEqual(failures.all, [])

        // The company's one giant sell order took every fill: one child per buyer.
        let login = api.login("VanguardETF", "Vang@123")
        let compToken = try XCTUnwrap(login.value("$.data.token")?.stringValue)
        let r = api.request("GET", "/transaction/getStockTransactions", token: compToken)
        ptAssertPaths(
            r, [("$.data[0].order_status", "PARTIALLY_COMPLETE"), ("$.data[0].quantity", "12488000000")],
            "company parent")
        let children = (r.value("$.data")?.arrayValue ?? []).filter { $0["parent_stock_tx_id"]?.stringValue != nil }
        XCTAssertEqual(children.count, users.count)
        XCTAssertTrue(children.allSatisfy { $0["quantity"] == .number("10") && $0["order_type"] == .string("LIMIT") })
        let w = api.request("GET", "/transaction/getWalletBalance", token: compToken)
        ptAssertPaths(w, [("$.data.balance", String(1350 * users.count))], "company proceeds")
        try PTLedger.conservation()
    }

    /// InitialSetup.jmx, steps 1–13. Returns (googleStockId, appleStockId).
    func initialSetup(_ api: PTClient) throws -> (String, String) {
        var r = api.register("VanguardETF", "Vang@123", "Vanguard Corp.")
        ptAssertSuccess(r, "1 Register")
        r = api.register("VanguardETF", "Comp@124", "Vanguard Ltd.")
        ptAssertFailure(r, status: 400, "2 Register duplicate")
        r = api.login("VanguardETF", "Vang@1234")
        ptAssertFailure(r, status: 400, "3 Failed Login")
        r = api.login("VanguardETF", "Vang@123")
        ptAssertSuccess(r, "4 Login")
        let comp = try XCTUnwrap(r.value("$.data.token")?.stringValue)
        r = api.request("POST", "/setup/createStock", token: comp, body: #"{"stock_name":"Google"}"#)
        ptAssertSuccess(r, "5 Create Google")
        let google = try XCTUnwrap(r.value("$.data.stock_id")?.stringValue)
        r = api.request(
            "POST", "/setup/addStockToUser", token: comp,
            body: "{\"stock_id\": \"\(google)\",\r\n\"quantity\": 12488000000}")
        ptAssertSuccess(r, "6 Add Google")
        r = api.request("POST", "/setup/createStock", token: comp, body: #"{"stock_name":"Apple"}"#)
        ptAssertSuccess(r, "7 Create Apple")
        let apple = try XCTUnwrap(r.value("$.data.stock_id")?.stringValue)
        // The plan writes both ids to a CSV: they must not contain commas.
        XCTAssertFalse(google.contains(",") || apple.contains(","))
        r = api.request(
            "POST", "/setup/addStockToUser", token: comp,
            body: "{\"stock_id\": \"\(apple)\",\r\n\"quantity\": 15509763000}")
        ptAssertSuccess(r, "8 Add Apple")
        r = api.request("GET", "/transaction/getStockPortfolio", token: comp)
        ptAssertSuccess(r, "9 Portfolio")
        ptAssertPaths(
            r,
            [
                ("$.data[0].stock_id", google), ("$.data[0].stock_name", "Google"),
                ("$.data[0].quantity_owned", "12488000000"),
                ("$.data[1].stock_id", apple), ("$.data[1].stock_name", "Apple"),
                ("$.data[1].quantity_owned", "15509763000"),
            ], "9")
        r = api.request(
            "POST", "/engine/placeStockOrder", token: comp,
            body:
                "{\"stock_id\":\"\(google)\", \"is_buy\":false, \"order_type\":\"LIMIT\", \"quantity\":12488000000,\r\n\"price\":135}"
        )
        ptAssertSuccess(r, "10 Sell Google")
        r = api.request(
            "POST", "/engine/placeStockOrder", token: comp,
            body:
                "{\"stock_id\":\"\(apple)\", \"is_buy\":false, \"order_type\":\"LIMIT\", \"quantity\":15509763000,\r\n\"price\":140}"
        )
        ptAssertSuccess(r, "11 Sell Apple")
        r = api.request("GET", "/transaction/getStockPortfolio", token: comp)
        ptAssertSuccess(r, "12 Portfolio")
        ptAssertPaths(r, [("$.data", "[]")], "12")
        r = api.request("GET", "/transaction/getStockTransactions", token: comp)
        ptAssertSuccess(r, "13 Stock transactions")
        ptAssertPaths(
            r,
            [
                ("$.data[0].parent_stock_tx_id", "null"), ("$.data[0].stock_id", google),
                ("$.data[0].order_status", "IN_PROGRESS"),
                ("$.data[0].is_buy", "false"), ("$.data[0].order_type", "LIMIT"), ("$.data[0].stock_price", "135"),
                ("$.data[0].quantity", "12488000000"),
                ("$.data[1].parent_stock_tx_id", "null"), ("$.data[1].stock_id", apple),
                ("$.data[1].order_status", "IN_PROGRESS"),
                ("$.data[1].is_buy", "false"), ("$.data[1].order_type", "LIMIT"), ("$.data[1].stock_price", "140"),
                ("$.data[1].quantity", "15509763000"),
            ], "13")
        ptAssertInteger(r, "$.data[1].quantity")
        return (google, apple)
    }

    /// UserThreadTest.jmx, steps 14–23, for one CSV row. Throws a description of the first miss
    /// (XCTest assertions are not made from the worker threads).
    static func userThread(
        _ api: PTClient, _ u: (username: String, password: String, name: String),
        google: String, apple: String
    ) throws {
        let check = PTCheck()
        var r = api.register(u.username, u.password, u.name)
        check.success(r, "14 Register")
        r = api.login(u.username, u.password)
        check.success(r, "15 Login")
        guard let token = r.value("$.data.token")?.stringValue else {
            throw PTMissing(description: "15: no token: \(r.body)")
        }
        r = api.request("GET", "/transaction/getStockPrices", token: token)
        check.success(r, "16 Prices")
        check.paths(
            r,
            [
                ("$.data[0].stock_id", google), ("$.data[0].stock_name", "Google"), ("$.data[0].current_price", "135"),
                ("$.data[1].stock_id", apple), ("$.data[1].stock_name", "Apple"), ("$.data[1].current_price", "140"),
            ], "16")
        r = api.request("POST", "/transaction/addMoneyToWallet", token: token, body: #"{"amount":10000}"#)
        check.success(r, "17 Add money")
        r = api.request("GET", "/transaction/getWalletBalance", token: token)
        check.success(r, "18 Balance")
        check.paths(r, [("$.data.balance", "10000")], "18")
        r = api.request(
            "POST", "/engine/placeStockOrder", token: token,
            body: #"{"stock_id":"\#(google)", "is_buy":true, "order_type":"MARKET", "quantity":10, "price":null}"#)
        check.success(r, "19 Market buy")
        r = api.request("GET", "/transaction/getStockTransactions", token: token)
        check.success(r, "20 Stock transactions")
        check.paths(
            r,
            [
                ("$.data[0].parent_stock_tx_id", "null"), ("$.data[0].stock_id", google),
                ("$.data[0].order_status", "COMPLETED"),
                ("$.data[0].is_buy", "true"), ("$.data[0].order_type", "MARKET"), ("$.data[0].stock_price", "135"),
                ("$.data[0].quantity", "10"),
            ], "20")
        let stockTx = r.path("$.data[0].stock_tx_id") ?? "?"
        let walletTx = r.path("$.data[0].wallet_tx_id") ?? "?"
        r = api.request("GET", "/transaction/getWalletTransactions", token: token)
        check.success(r, "21 Wallet transactions")
        check.paths(
            r,
            [
                ("$.data[0].wallet_tx_id", walletTx), ("$.data[0].stock_tx_id", stockTx),
                ("$.data[0].is_debit", "true"), ("$.data[0].amount", "1350"),
            ], "21")
        r = api.request("GET", "/transaction/getWalletBalance", token: token)
        check.success(r, "22 Balance")
        check.paths(r, [("$.data.balance", "8650")], "22")
        r = api.request("GET", "/transaction/getStockPortfolio", token: token)
        check.success(r, "23 Portfolio")
        check.paths(
            r,
            [("$.data[0].stock_id", google), ("$.data[0].stock_name", "Google"), ("$.data[0].quantity_owned", "10")],
            "23")
        if !check.misses.isEmpty { throw PTMissing(description: check.misses.joined(separator: "; ")) }
    }
}

/// Assertion results gathered off the main thread.
final class PTCheck: @unchecked Sendable {
    private(set) var misses: [String] = []

    func success(_ r: PTResponse, _ step: String) {
        if !(200..<300).contains(r.status) || r.path("$.success") != "true" {
            misses.append("\(step): HTTP \(r.status) \(r.body.prefix(200))")
        }
    }

    func paths(_ r: PTResponse, _ expected: [(String, String)], _ step: String) {
        for (path, want) in expected where r.path(path) != want {
            misses.append("\(step): \(path) = \(r.path(path) ?? "<missing>"), want \(want)")
        }
    }
}

final class PTFailures: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [String] = []
    var all: [String] { lock.withLock { list } }

    func collect(_ what: String, _ body: () throws -> Void) {
        do { try body() } catch { lock.withLock { list.append("\(what): \(error)") } }
    }

    func add(_ message: String) { lock.withLock { list.append(message) } }
}
