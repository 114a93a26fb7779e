import Foundation
import ServiceCore
import XCTest

/// Spec §2.6: simultaneous buys cannot oversell an order, a balance never goes negative, and a
/// cancel racing buys neither loses nor doubles shares. Requests really are concurrent (one
/// thread each, released together).
final class EngineConcurrencyTests: XCTestCase {
    var api: PTClient!

    override func setUpWithError() throws { api = try PTClient() }

    /// Runs `body(i)` for i in 0..<n on n threads at once; returns the responses in index order.
    func together(_ n: Int, _ body: @escaping @Sendable (Int) -> PTResponse) -> [PTResponse] {
        let results = PTBox<[Int: PTResponse]>([:])
        let start = DispatchSemaphore(value: 0)
        let done = DispatchGroup()
        for i in 0..<n {
            done.enter()
            Thread.detachNewThread {
                start.wait()
                let r = body(i)
                results.update { $0[i] = r }
                done.leave()
            }
        }
        for _ in 0..<n { start.signal() }
        done.wait()
        return (0..<n).compactMap { results.value[$0] }
    }

    func testSimultaneousBuysCannotOversell() throws {
        let seller = try api.newUser("os").token
        let s = try api.createStock(seller)
        api.grant(seller, s, 10)
        ptAssertSuccess(api.order(seller, s, buy: false, limit: 5, 10), "ask 10 @ 5")
        let buyers = try (0..<10).map { _ in try api.newUser("ob").token }
        for b in buyers { api.deposit(b, "100") }
        let client = self.api!
        let results = together(buyers.count) { client.order(buyers[$0], s, buy: true, limit: nil, 3) }
        XCTAssertEqual(results.filter { $0.status == 200 }.count, 3, "only three buys of 3 fit in 10 shares")
        XCTAssertEqual(results.filter { $0.status == 400 }.count, 7, results.map(\.body).joined(separator: "\n"))
        let owned = buyers.map { Int(api.owned($0, s)) ?? -1 }
        XCTAssertEqual(owned.reduce(0, +), 9)
        XCTAssertEqual(buyers.map { api.balance($0) }.filter { $0 == "85" }.count, 3)
        XCTAssertEqual(buyers.map { api.balance($0) }.filter { $0 == "100" }.count, 7)
        let txs = api.stockTxs(seller)
        XCTAssertEqual(txs[0].text("order_status"), "PARTIALLY_COMPLETE")
        XCTAssertEqual(txs.count, 4, "parent + three children")
        XCTAssertEqual(api.balance(seller), "45")
        try PTLedger.conservation()
        try PTLedger.headroomMatchesRestingOrders()
    }

    func testBalanceNeverGoesNegative() throws {
        let seller = try api.newUser("ns").token
        let buyer = try api.newUser("nb").token
        let s = try api.createStock(seller)
        api.grant(seller, s, 1000)
        ptAssertSuccess(api.order(seller, s, buy: false, limit: 7, 1000), "ask 1000 @ 7")
        api.deposit(buyer, "100")
        let client = self.api!
        let results = together(20) { _ in client.order(buyer, s, buy: true, limit: nil, 1) }
        XCTAssertEqual(results.filter { $0.status == 200 }.count, 14, "100 buys fourteen shares at 7")
        XCTAssertEqual(api.balance(buyer), "2")
        XCTAssertEqual(api.owned(buyer, s), "14")
        XCTAssertEqual(api.walletTxs(buyer).count, 14)
        // Limit bids escrow cash: concurrent bids can never reserve more than the balance.
        let bids = together(5) { _ in client.order(buyer, s, buy: true, limit: 1, 1) }
        XCTAssertEqual(bids.filter { $0.status == 200 }.count, 2)
        XCTAssertEqual(api.balance(buyer), "0")
        try PTLedger.conservation()
        try PTLedger.headroomMatchesRestingOrders()
    }

    func testCancelRacingBuysConservesShares() throws {
        let seller = try api.newUser("cs").token
        let s = try api.createStock(seller)
        api.grant(seller, s, 100)
        ptAssertSuccess(api.order(seller, s, buy: false, limit: 1, 100), "ask 100 @ 1")
        let order = api.stockTxs(seller)[0].text("stock_tx_id")
        let buyers = try (0..<8).map { _ in try api.newUser("cb").token }
        for b in buyers { api.deposit(b, "50") }
        let client = self.api!
        let results = together(buyers.count + 1) { i in
            i == buyers.count ? client.cancel(seller, order) : client.order(buyers[i], s, buy: true, limit: nil, 10)
        }
        XCTAssertEqual(results.last?.status, 200, "the cancel finds the order open (the buys leave 20 at least)")
        let bought = buyers.map { Int(api.owned($0, s)) ?? -1 }.reduce(0, +)
        let sold = results.dropLast().filter { $0.status == 200 }.count * 10
        XCTAssertEqual(bought, sold)
        XCTAssertEqual(Int(api.owned(seller, s)), 100 - sold, "the unfilled part came back, once")
        XCTAssertEqual(api.stockTxs(seller)[0].text("order_status"), "CANCELLED")
        XCTAssertEqual(api.balance(seller), String(sold))
        try PTLedger.conservation()
        try PTLedger.headroomMatchesRestingOrders()
    }
}

/// A lock-protected value shared by test threads.
final class PTBox<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: T
    init(_ value: T) { stored = value }
    var value: T { lock.withLock { stored } }
    func update(_ body: (inout T) -> Void) { lock.withLock { body(&stored) } }
}
