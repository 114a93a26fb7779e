import ArgumentParser
import Foundation
import ServiceCore

// dts-stream: opens many GET /engine/stream clients through nginx, places trades at a steady
// rate, and measures how long each trade takes from its commit (`commit_ms` in the event) to
// each client's socket. The same run measures two anchors: nginx's own /nginx-health round trip
// and the order's round trip (client → nginx → gateway → engine commit → answer).

func log(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }

let command = StreamCommand.parseOrExit()
let url = command.url
let clients = command.clients
let users = command.users ?? (command.clients + 9) / 10
let trades = command.trades
let rate = command.rate
let hostPort = url.replacingOccurrences(of: "http://", with: "").split(separator: "/").first.map(String.init) ?? ""
guard let endpoint = Endpoint(hostPort) else {
    StreamCommand.exit(withError: ValidationError("--url must be http://host:port"))
}

var lim = rlimit()
getrlimit(Int32(RLIMIT_NOFILE.rawValue), &lim)
lim.rlim_cur = lim.rlim_max
setrlimit(Int32(RLIMIT_NOFILE.rawValue), &lim)

let api = PlatformCalls(endpoint: endpoint)
let prefix = "sb" + String(UInt64(wallMicros()) % 1_000_000_000, radix: 36)
do {
    // --- setup -----------------------------------------------------------------------------
    log("setup: \(users) users, a stock with \(trades) shares on offer, \(clients) tickets")
    let (stock, buyer) = try api.market(prefix: prefix, shares: trades, price: 10)
    let tokens = try (0..<users).map { try api.newUser("\(prefix)-u\($0)") }
    let sse = SSEClients(stockId: stock)
    for i in 0..<clients {
        let ticket = try api.ticket(tokens[i % users])
        let path =
            "/engine/stream?ticket=" + (ticket.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ticket)
        guard sse.add(host: endpoint.host, port: endpoint.port, path: path) else {
            throw BenchError(description: "socket \(i) failed")
        }
    }
    let loop = Thread { sse.run() }
    loop.stackSize = 1 << 22
    loop.start()
    let openStart = Date()
    while sse.openedCount + sse.failed < clients && Date().timeIntervalSince(openStart) < 30 { usleep(50_000) }
    log(
        "streams: \(sse.openedCount) open, \(sse.failed) failed, in \(String(format: "%.1f", Date().timeIntervalSince(openStart))) s"
    )
    guard sse.openedCount == clients else {
        throw BenchError(description: "only \(sse.openedCount) of \(clients) streams opened")
    }

    // --- anchor: nginx alone ----------------------------------------------------------------
    var nginxRTT: [Int64] = []
    for _ in 0..<500 {
        let t0 = wallMicros()
        _ = try? api.client.request(endpoint, method: "GET", path: "/nginx-health")
        nginxRTT.append(wallMicros() - t0)
    }

    // --- trades -----------------------------------------------------------------------------
    log("trading: \(trades) trades at \(rate)/s")
    var orderRTT: [Int64] = []
    let interval = 1_000_000 / rate
    let t0 = wallMicros()
    for i in 0..<trades {
        let due = t0 + Int64(Double(i) * interval)
        let wait = due - wallMicros()
        if wait > 0 { usleep(UInt32(wait)) }
        let s = wallMicros()
        try api.marketBuy(buyer, stock)
        orderRTT.append(wallMicros() - s)
    }
    let expected = clients * trades
    let drainStart = Date()
    while sse.tradeReceipts < expected && Date().timeIntervalSince(drainStart) < 10 { usleep(20_000) }
    let elapsed = Double(wallMicros() - t0) / 1e6
    sse.stop()

    // --- report -----------------------------------------------------------------------------
    let lat = sse.latencies.sorted()
    nginxRTT.sort()
    orderRTT.sort()
    func row(_ name: String, _ v: [Int64]) -> String {
        "\(name.padding(toLength: 44, withPad: " ", startingAt: 0)) \(String(v.count).leftPad(8))  "
            + [50, 90, 99, 99.9].map { ms(percentile(v, $0)).leftPad(8) }.joined(separator: " ") + "  "
            + ms(v.last ?? 0).leftPad(8)
    }
    print(
        "dts-stream: \(clients) SSE clients (\(users) users) through \(url); \(trades) trades at \(rate)/s in \(String(format: "%.1f", elapsed)) s"
    )
    print(
        "trade receipts: \(sse.tradeReceipts) of \(expected) expected; resets \(sse.resets); streams lost \(sse.failed)"
    )
    print(
        "\("latency (ms)".padding(toLength: 44, withPad: " ", startingAt: 0)) \("n".leftPad(8))  "
            + ["p50", "p90", "p99", "p99.9"].map { $0.leftPad(8) }.joined(separator: " ") + "  " + "max".leftPad(8))
    print(row("trade commit → client receipt (SSE)", lat))
    print(row("anchor: order round trip (placeStockOrder)", orderRTT))
    print(row("anchor: nginx /nginx-health round trip", nginxRTT))
    print("(commit_ms is whole milliseconds: receipt latencies read up to 1 ms high)")
    exit(sse.tradeReceipts == expected && sse.failed == 0 ? 0 : 1)
} catch {
    log("dts-stream: \(error)")
    exit(1)
}

extension String {
    func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}
