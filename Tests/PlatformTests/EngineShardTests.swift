import Foundation
import Glibc
import Ledger
import ServiceCore
import XCTest

/// The matching engine split by stock over several shards (docs/sharding.md), through nginx and
/// the gateway like any client. Runs when the test stack has shards: `ENGINE_SHARDS=2 scripts/test`.
final class EngineShardTests: XCTestCase {
    var shards: Int { Int(PTEnv.values["DT_TEST_ENGINE_SHARDS"] ?? "1") ?? 1 }

    override func setUpWithError() throws {
        try XCTSkipIf(shards < 2, "the test stack runs one engine (ENGINE_SHARDS=2 scripts/test runs these)")
        try XCTSkipIf(PTEnv.direct, "sharding is exercised through the gateway")
    }

    static func shardEndpoint(_ k: Int) throws -> Endpoint {
        Endpoint(host: "127.0.0.1", port: try PTEnv.portBase() + 8600 + k)
    }

    /// The shard owning each of `stocks` (from the ledger, as the engines read it).
    func owners(_ stocks: [String]) throws -> [String: Int] {
        let db = try PTEnv.pg()
        var out: [String: Int] = [:]
        for s in stocks {
            let stored = try XCTUnwrap(
                try db.query("SELECT shard FROM stocks WHERE id = $1", [Int64(s) ?? 0]).int64(0, 0))
            out[s] = Int(stored % Int64(shards))
        }
        return out
    }

    /// New stocks until there is one on each of shards 0 and 1: (stock on 0, stock on 1).
    func stockPerShard(_ api: PTClient, _ token: String) throws -> (String, String) {
        var byShard: [Int: String] = [:]
        for _ in 0..<(2 * shards) where byShard[0] == nil || byShard[1] == nil {
            let s = try api.createStock(token)
            let k = try XCTUnwrap(try owners([s])[s])
            if byShard[k] == nil { byShard[k] = s }
        }
        return (try XCTUnwrap(byShard[0], "a stock on shard 0"), try XCTUnwrap(byShard[1], "a stock on shard 1"))
    }

    /// Stock ids in shard k's in-memory books, and stock_tx_id → remaining.
    func books(_ k: Int) throws -> (stocks: Set<String>, orders: [String: String]) {
        let r = try PTEnv.signedClient.request(
            try Self.shardEndpoint(k), method: "GET", path: "/internal/books", timeoutMillis: 30_000)
        XCTAssertEqual(r.status, 200, "books of shard \(k)")
        let orders = try JSON.parse(r.body)["data"]?["orders"]?.arrayValue ?? []
        var remaining: [String: String] = [:]
        for o in orders { remaining[o.text("stock_tx_id")] = o.text("remaining") }
        return (Set(orders.map { $0.text("stock_id") }), remaining)
    }

    func restingId(_ api: PTClient, _ token: String, stock: String) -> String? {
        api.stockTxs(token).last {
            $0.text("stock_id") == stock && ["IN_PROGRESS", "PARTIALLY_COMPLETE"].contains($0.text("order_status"))
        }?
        .text("stock_tx_id")
    }

    func testOrdersTradeOnBothShardsAndCancelReachesTheOwner() throws {
        let api = try PTClient()
        let seller = try api.newUser("shs")
        let buyer = try api.newUser("shb")
        let (a, b) = try stockPerShard(api, seller.token)
        for s in [a, b] { api.grant(seller.token, s, 100) }
        api.deposit(buyer.token, "10000")

        for (s, price) in [(a, Int64(20)), (b, Int64(30))] {
            ptAssertSuccess(api.order(seller.token, s, buy: false, limit: price, 10), "sell \(s)")
            ptAssertSuccess(api.order(buyer.token, s, buy: true, limit: nil, 4), "market buy \(s)")
            XCTAssertEqual(api.owned(buyer.token, s), "4", "bought on the shard of \(s)")
            XCTAssertEqual(api.price(buyer.token, s), String(price), "getStockPrices lists \(s) (merged over shards)")
        }
        XCTAssertEqual(api.balance(buyer.token), "9800", "10000 - 4×20 - 4×30")

        // Each book lives on its owner only.
        let (books0, books1) = (try books(0), try books(1))
        XCTAssertTrue(books0.stocks.contains(a) && !books0.stocks.contains(b), "shard 0 holds \(a) only")
        XCTAssertTrue(books1.stocks.contains(b) && !books1.stocks.contains(a), "shard 1 holds \(b) only")

        // Cancels name only stock_tx_id: whichever shard the gateway picks, the owner cancels.
        for (s, k) in [(a, 0), (b, 1)] {
            let id = try XCTUnwrap(restingId(api, seller.token, stock: s), "resting sell on \(s)")
            XCTAssertEqual(try books(k).orders[id], "6", "order \(id) rests on shard \(k)")
            ptAssertSuccess(api.cancel(seller.token, id), "cancel \(id)")
            XCTAssertNil(try books(k).orders[id], "order \(id) left shard \(k)'s book")
            ptAssertFailure(api.cancel(seller.token, id), status: 400, "cancel \(id) twice")
        }
        XCTAssertEqual(api.owned(seller.token, a), "96")
        XCTAssertEqual(api.owned(seller.token, b), "96")
        let depth = api.request("GET", "/engine/depth?stock_id=\(b)", token: buyer.token)
        XCTAssertEqual(depth.status, 200, "depth of a shard-1 stock from any shard: \(depth.body)")
        try PTLedger.conservation()
    }

    /// One buyer's cash is spent by both shards at once, through many concurrent orders; the
    /// account row's lock (and 40P01/40001 retries of whole batches) keeps every cent exact.
    func testConcurrentSpendingOnTwoShardsNeverOverspends() throws {
        let api = try PTClient()
        let seller = try api.newUser("ocs")
        let buyer = try api.newUser("ocb")
        let (a, b) = try stockPerShard(api, seller.token)
        for s in [a, b] {
            api.grant(seller.token, s, 10_000)
            ptAssertSuccess(api.order(seller.token, s, buy: false, limit: 1, 10_000), "sell wall on \(s)")
        }
        api.deposit(buyer.token, "100")

        // 40 buys of 5 shares at $1 per stock: $400 asked for, $100 there; each buy fills at once.
        let accepted = PTBox(0)
        let group = DispatchGroup()
        for i in 0..<80 {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                let r = api.order(buyer.token, i % 2 == 0 ? a : b, buy: true, limit: 1, 5)
                if r.status == 200 { accepted.update { $0 += 1 } }
                XCTAssertTrue(r.status == 200 || r.status == 400, "success or insufficient funds: \(r.body)")
            }
        }
        group.wait()
        XCTAssertEqual(accepted.value, 20, "exactly $100 / $5 buys are accepted")
        XCTAssertEqual(api.balance(buyer.token), "0")
        let bought = (Int(api.owned(buyer.token, a)) ?? -1) + (Int(api.owned(buyer.token, b)) ?? -1)
        XCTAssertEqual(bought, 100, "shares bought = cash spent")
        let db = try PTEnv.pg()
        let cash = try db.query(
            "SELECT a.cash_cents, a.reserved_cents FROM accounts a JOIN users u ON u.id = a.user_id WHERE u.user_name = $1",
            [buyer.name])
        XCTAssertEqual(cash.int64(0, 0), 0)
        XCTAssertEqual(cash.int64(0, 1), 0, "no escrow left behind")
        try PTLedger.conservation()
    }

    /// Two traders each buy on one shard from the other's resting sells, at once: each shard's
    /// batch locks its buyer's account first and the seller's (the maker's credit) last, in
    /// opposite orders on the two shards, so PostgreSQL may abort one with a deadlock (40P01).
    /// The batch is then run again as a whole: every answered order counts exactly once.
    func testCrossingTradersOnTwoShardsStayExact() throws {
        let api = try PTClient()
        let x = try api.newUser("ctx")
        let y = try api.newUser("cty")
        let (a, b) = try stockPerShard(api, x.token)
        for u in [x, y] {
            api.deposit(u.token, "1000")
            for s in [a, b] { api.grant(u.token, s, 1000) }
        }
        ptAssertSuccess(api.order(x.token, a, buy: false, limit: 1, 1000), "x sells \(a)")
        ptAssertSuccess(api.order(y.token, b, buy: false, limit: 1, 1000), "y sells \(b)")
        let bought = PTBox([0, 0])
        let group = DispatchGroup()
        for t in 0..<8 {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                let (buyer, stock) = t % 2 == 0 ? (y, a) : (x, b)
                for _ in 0..<25 {
                    let r = api.order(buyer.token, stock, buy: true, limit: nil, 1)
                    XCTAssertEqual(r.status, 200, "market buy of \(stock): \(r.body)")
                    if r.status == 200 { bought.update { $0[t % 2] += 1 } }
                }
            }
        }
        group.wait()
        let (yBought, xBought) = (bought.value[0], bought.value[1])
        XCTAssertEqual(yBought + xBought, 200)
        // x paid $1 per share of b to y and was paid $1 per share of a by y.
        XCTAssertEqual(api.balance(x.token), String(1000 - xBought + yBought))
        XCTAssertEqual(api.balance(y.token), String(1000 - yBought + xBought))
        XCTAssertEqual(api.owned(x.token, b), String(1000 + xBought))
        XCTAssertEqual(api.owned(y.token, a), String(1000 + yBought))
        var retries = 0.0
        for k in 0..<shards {
            retries += try PTEnv.metrics(try Self.shardEndpoint(k)).filter {
                $0.series.hasPrefix("engine_batch_retries_total")
            }.map(\.value).reduce(0, +)
        }
        print("EngineShardTests: whole-batch retries after 40P01/40001 so far: \(Int(retries))")
        try PTLedger.conservation()
    }

    /// Orders placed alternately on two shards come back in the order they were placed, though
    /// each shard draws its ids from its own block (id order is not time order across shards).
    func testTransactionListsMergeShardsInTimeOrder() throws {
        let api = try PTClient()
        let seller = try api.newUser("mts")
        let buyer = try api.newUser("mtb")
        let (a, b) = try stockPerShard(api, seller.token)
        for s in [a, b] {
            api.grant(seller.token, s, 100)
            ptAssertSuccess(api.order(seller.token, s, buy: false, limit: 10, 100), "sell \(s)")
        }
        api.deposit(buyer.token, "1000")
        var placed: [String] = []
        for i in 0..<8 {
            let s = i % 2 == 0 ? a : b
            ptAssertSuccess(api.order(buyer.token, s, buy: true, limit: nil, Int64(i + 1)), "buy \(i + 1) of \(s)")
            placed.append("\(s):\(i + 1)")
        }
        let txs = api.stockTxs(buyer.token)
        XCTAssertEqual(txs.map { "\($0.text("stock_id")):\($0.text("quantity"))" }, placed, "placement order")
        let times = txs.map { $0.text("time_stamp") }
        XCTAssertEqual(times, times.sorted(), "time_stamp ascending")
        let wallet = api.walletTxs(buyer.token)
        XCTAssertGreaterThanOrEqual(wallet.count, 8)
        let walletTimes = wallet.map { $0.text("time_stamp") }
        XCTAssertEqual(walletTimes, walletTimes.sorted(), "wallet transactions in time order")
        // Ids are not monotonic across shards here, so the order above is the time order's doing.
        let ids = txs.compactMap { Int64($0.text("stock_tx_id")) }
        XCTAssertNotEqual(ids, ids.sorted(), "the shards' id blocks interleave (else this test proves nothing)")
    }

    /// kill -9 shard 1: its stocks answer 503 while shard 0's keep trading; scripts/up restarts it
    /// and its book comes back from the ledger.
    func testOneShardDownOtherKeepsTrading() throws {
        let api = try PTClient()
        let seller = try api.newUser("kds")
        let buyer = try api.newUser("kdb")
        let (a, b) = try stockPerShard(api, seller.token)
        for s in [a, b] {
            api.grant(seller.token, s, 1000)
            ptAssertSuccess(api.order(seller.token, s, buy: false, limit: 5, 500), "sell \(s)")
        }
        api.deposit(buyer.token, "10000")
        let restingB = try XCTUnwrap(restingId(api, seller.token, stock: b))

        let pidFile = try PTEnv.require("DT_TEST_STATE") + "/pids/matching-engine-\(try PTEnv.portBase() + 8601).pid"
        try PTStack.kill(pidFile: pidFile, SIGKILL)
        defer { _ = try? PTStack.upAgain() }

        // Shard 0's stock keeps trading. The gateway moves off the dead instance on connect
        // errors; a request it had already written to a pooled socket of the dead shard gets a
        // 502 (outcome unknown to the gateway; here nothing was applied, as the balance shows).
        var done = 0
        var lost = 0
        while done < 10 && lost <= 8 {
            let r = api.order(buyer.token, a, buy: true, limit: nil, 1)
            if r.status == 200 {
                done += 1
            } else {
                lost += 1
                XCTAssertEqual(r.status, 502, "shard-0 stock \(a) with shard 1 down: \(r.body)")
            }
        }
        XCTAssertEqual(done, 10, "shard 0 trades on (\(lost) requests lost on the dead shard's pooled sockets)")
        XCTAssertEqual(api.owned(buyer.token, a), "10")
        // Shard 1's stock cannot trade: an error, never a success, never a half-applied order.
        for i in 0..<4 {
            let r = api.order(buyer.token, b, buy: true, limit: nil, 1)
            XCTAssertEqual(r.status, 503, "buy \(i) of shard-1 stock \(b) with its shard down: \(r.body)")
            XCTAssertEqual(r.path("$.success"), "false")
        }
        XCTAssertEqual(api.balance(buyer.token), "9950", "only shard 0's 10 buys were charged")
        // Reads that need no book are answered from the ledger by the live shard.
        XCTAssertEqual(api.stockTxs(buyer.token).count, 10, "transactions listed by the live shard")

        try PTStack.upAgain()
        let deadline = Date().addingTimeInterval(60)
        var r = api.order(buyer.token, b, buy: true, limit: nil, 1)
        while r.status != 200 && Date() < deadline {
            usleep(100_000)
            r = api.order(buyer.token, b, buy: true, limit: nil, 1)
        }
        XCTAssertEqual(r.status, 200, "shard 1 trades again after restart: \(r.body)")
        XCTAssertEqual(api.owned(buyer.token, b), "1")
        XCTAssertEqual(try books(1).orders[restingB], "499", "the resting sell was rebuilt from the ledger")
        try PTLedger.conservation()
    }
}
