import Foundation

/// One workload command as the model sees it.
struct WorkloadModelCommand {
    let txn: Int
    let name: String
    let user: String
    var stock: String = ""
    var amount: String = ""
}

/// An independent re-execution of spec/classic.md (§3, §4, §5, §10) over one replay, written
/// without ClassicCore. Inputs: each user's commands in order, plus what only the run itself can
/// tell: each command's timestamp, the quotes the quote server really gave (quoteServer entries),
/// and the trigger firings (systemEvents), whose timing depends on quote polls. Cash and share
/// effects are always recomputed here. Where timing leaves two legitimate readings (which cached
/// quote a command saw when two hits of a symbol are close together; a COMMIT within a second of
/// the 60 s boundary), each reading is tried and the one matching the logged outcome is kept; a
/// command that no reading explains is a problem.
final class WorkloadModel {
    struct PendingBuy {
        let symbol: String
        let price: Int64
        let shares: Int64
        let cost: Int64
        let at: Int64
        let txn: Int
    }
    struct PendingSell {
        let symbol: String
        let price: Int64
        let shares: Int64
        let at: Int64
        let txn: Int
    }
    struct BuyTrigger {
        var reserve: Int64
        var price: Int64?
        var armTxn: Int
        var armedAt: Int64
    }
    struct SellTrigger {
        var amount: Int64
        var price: Int64?
        var reserved: Int64
        var armTxn: Int
        var armedAt: Int64
    }

    struct Account {
        var exists = false
        var cash: Int64 = 0
        var free: [String: Int64] = [:]
        var held: [String: Int64] = [:]
        var buys: [PendingBuy] = []
        var sells: [PendingSell] = []
        var buyTriggers: [String: BuyTrigger] = [:]
        var sellTriggers: [String: SellTrigger] = [:]
        /// Moves across the system's edge: ADDs, market buys (−), market sells (+).
        var flowCents: Int64 = 0
        var flowShares: [String: Int64] = [:]
        /// Free-cash change the log should show per transactionNum (accountTransaction add − remove).
        var cashByTxn: [Int: Int64] = [:]

        var reservedCash: Int64 { buys.reduce(0) { $0 + $1.cost } + buyTriggers.values.reduce(0) { $0 + $1.reserve } }

        mutating func credit(_ cents: Int64, txn: Int) {
            cash += cents
            cashByTxn[txn, default: 0] += cents
        }
        mutating func debit(_ cents: Int64, txn: Int) {
            cash -= cents
            cashByTxn[txn, default: 0] -= cents
        }
    }

    /// An armed trigger's parameters over a span of time (for the "every fresh quote is checked" rule).
    struct ArmedSpan {
        let user: String
        let symbol: String
        let isBuy: Bool
        let price: Int64
        let size: Int64
        let from: Int64
        var to: Int64
    }

    let log: WorkloadLogIndex
    private(set) var accounts: [String: Account] = [:]
    private(set) var problems: [String] = []
    private(set) var spans: [ArmedSpan] = []
    private(set) var ambiguousChoices = 0
    private(set) var succeeded = 0, failed = 0, firingsApplied = 0
    /// Quote entries the model relied on (checked against the quote server's signature).
    private(set) var usedQuotes: [WorkloadLogEntry] = []

    init(log: WorkloadLogIndex) {
        self.log = log
    }

    func problem(_ s: String) { problems.append(s) }

    static func isSymbol(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.count <= 3 && s.utf8.allSatisfy { $0 >= 0x41 && $0 <= 0x5A }
    }

    static func positiveCents(_ s: String) -> Int64? {
        guard let c = WorkloadMoney.cents(s), c > 0 else { return nil }
        return c
    }

    // MARK: running a user's stream

    /// Replays one user's commands (in workload order) and firings, up to `until`.
    func run(user: String, commands: [WorkloadModelCommand], until: Int64) {
        var acct = Account()
        var firings = log.firings[user] ?? []
        var lastT: Int64 = 0
        for cmd in commands {
            let key = WorkloadLogKey(user: user, txn: cmd.txn)
            guard let uc = log.userCommands[key] else {
                problem("\(user) [\(cmd.txn)] \(cmd.name): no userCommand in the DUMPLOG")
                continue
            }
            if uc.command != cmd.name {
                problem("\(user) [\(cmd.txn)]: userCommand says \(uc.command), workload says \(cmd.name)")
            }
            let t = uc.timestamp
            if t < lastT {
                problem("\(user) [\(cmd.txn)] \(cmd.name): timestamp \(t) is before the previous command's \(lastT)")
            }
            lastT = max(lastT, t)
            // Firings stamped before this command happened before it; in the same millisecond the
            // log's order tells (both are stamped and logged under the account lock; a command's
            // own fresh quote fires its triggers after it).
            while let f = firings.first, (f.timestamp, f.position) < (t, uc.position) {
                firings.removeFirst()
                expire(&acct, user: user, at: f.timestamp, offset: 0)
                fire(&acct, user: user, f)
            }
            execute(&acct, cmd, at: t)
        }
        for f in firings where f.timestamp <= until {
            expire(&acct, user: user, at: f.timestamp, offset: 0)
            fire(&acct, user: user, f)
        }
        expire(&acct, user: user, at: until, offset: 0)
        closeSpans(user: user, at: until)
        accounts[user] = acct
    }

    /// Pending BUY/SELLs made at `at0` are live for commands stamped `< at0 + 60000` (§10.1). `offset`
    /// shifts that boundary for the near-boundary retry.
    private func expire(_ a: inout Account, user: String, at t: Int64, offset: Int64) {
        while let i = a.buys.firstIndex(where: { t >= $0.at + 60_000 + offset }) {
            let b = a.buys.remove(at: i)
            a.credit(b.cost, txn: b.txn)
        }
        while let i = a.sells.firstIndex(where: { t >= $0.at + 60_000 + offset }) {
            let s = a.sells.remove(at: i)
            a.free[s.symbol, default: 0] += s.shares
            a.held[s.symbol, default: 0] -= s.shares
        }
    }

    private func execute(_ acct: inout Account, _ cmd: WorkloadModelCommand, at t: Int64) {
        let key = WorkloadLogKey(user: cmd.user, txn: cmd.txn)
        let logged: String? = log.errors[key].map { $0.errorCode }
        // A BUY's hold shows as its `remove` (a later expiry adds an `add` under the same number).
        let loggedRemoves = (log.accountTransactions[key] ?? []).filter { $0.fields["action"] == "remove" }
        let loggedHold: Int64? =
            loggedRemoves.isEmpty ? nil : loggedRemoves.reduce(Int64(0)) { $0 + ($1.fundsCents ?? 0) }

        // Readings to try: expiry boundary exact, then ±1.5 s (timestamps vs when the order was
        // really made); for each, the price candidates.
        let needsQuote = ["QUOTE", "BUY", "SELL"].contains(cmd.name)
        let boundaryNear =
            acct.buys.contains { abs(t - ($0.at + 60_000)) < 1500 }
            || acct.sells.contains { abs(t - ($0.at + 60_000)) < 1500 }
        let offsets: [Int64] = boundaryNear ? [0, -1500, 1500] : [0]

        var first: (Account, String?, WorkloadLogEntry?)? = nil
        var chosen: (Account, String?, WorkloadLogEntry?)? = nil
        var readings = 0
        for offset in offsets {
            var base = acct
            expire(&base, user: cmd.user, at: t, offset: offset)
            if let code = preCheck(base, cmd) {
                let r = (base, Optional(code), WorkloadLogEntry?.none)
                readings += 1
                if first == nil { first = r }
                if matches(code, logged, cmd) {
                    chosen = r
                    break
                }
                continue
            }
            var prices: [WorkloadLogEntry?] = [nil]
            if needsQuote {
                if let fresh = log.freshQuotes[key]?.last {
                    prices = [fresh]
                } else {
                    let c = log.candidates(symbol: cmd.stock, at: t)
                    prices = c.isEmpty ? [nil] : c
                }
            }
            for q in prices {
                var a = base
                let code: String?
                if needsQuote && q == nil {
                    code = "QUOTE_UNAVAILABLE"
                } else {
                    code = effect(&a, cmd, price: q?.priceCents ?? 0, at: t)
                }
                readings += 1
                let r = (a, code, q)
                if first == nil { first = r }
                let cashOK = code != nil || cmd.name != "BUY" || loggedHold == nil || a.buys.last?.cost == loggedHold
                if matches(code, logged, cmd) && cashOK {
                    chosen = r
                    break
                }
            }
            if chosen != nil { break }
        }
        guard let pick = chosen ?? first else { return }
        if chosen == nil {
            problem(
                "\(cmd.user) [\(cmd.txn)] \(cmd.name) \(cmd.stock) \(cmd.amount): model says \(pick.1 ?? "ok"), log says \(logged ?? "ok")"
                    + (needsQuote
                        ? " (price \(pick.2.flatMap { $0.priceCents }.map(WorkloadMoney.text) ?? "none"))" : ""))
        } else if readings > 1 {
            ambiguousChoices += 1
        }
        if let q = pick.2 { usedQuotes.append(q) }
        if pick.1 == nil { succeeded += 1 } else { failed += 1 }
        if pick.1 != nil, needsQuote, pick.2 == nil, let fresh = log.freshQuotes[key], !fresh.isEmpty {
            problem(
                "\(cmd.user) [\(cmd.txn)] \(cmd.name): failed before needing a price (\(pick.1 ?? "")) but paid for a quote hit"
            )
        }
        if needsQuote && pick.1 == nil && pick.2 == nil {
            problem(
                "\(cmd.user) [\(cmd.txn)] \(cmd.name) \(cmd.stock): succeeded with no quote of \(cmd.stock) obtained in the 60 s before it"
            )
        }
        let before = acct
        acct = pick.0
        trackSpans(before: before, after: acct, user: cmd.user, at: t)
    }

    /// Whether the model's result agrees with the log. SELL of shares that are all held may answer
    /// either code (§10.11).
    private func matches(_ model: String?, _ logged: String?, _ cmd: WorkloadModelCommand) -> Bool {
        if model == logged { return true }
        let either: Set<String> = ["ZERO_SHARES", "INSUFFICIENT_SHARES"]
        if let m = model, let l = logged, cmd.name == "SELL", either.contains(m), either.contains(l) { return true }
        return false
    }

    // MARK: command semantics

    /// Checks that need no price (§10.2). Returns an error code, or nil to go on.
    func preCheck(_ a: Account, _ c: WorkloadModelCommand) -> String? {
        switch c.name {
        case "ADD":
            return WorkloadModel.positiveCents(c.amount) == nil ? "INVALID_ARGUMENT" : nil
        case "DUMPLOG":
            return nil
        default:
            break
        }
        guard a.exists else { return "UNKNOWN_USER" }
        let withSymbol: Set<String> = [
            "QUOTE", "BUY", "SELL", "SET_BUY_AMOUNT", "SET_BUY_TRIGGER", "CANCEL_SET_BUY",
            "SET_SELL_AMOUNT", "SET_SELL_TRIGGER", "CANCEL_SET_SELL",
        ]
        let withAmount: Set<String> = [
            "BUY", "SELL", "SET_BUY_AMOUNT", "SET_BUY_TRIGGER", "SET_SELL_AMOUNT", "SET_SELL_TRIGGER",
        ]
        if withAmount.contains(c.name) && WorkloadModel.positiveCents(c.amount) == nil { return "INVALID_ARGUMENT" }
        if withSymbol.contains(c.name) && !WorkloadModel.isSymbol(c.stock) { return "INVALID_ARGUMENT" }
        let amount = WorkloadModel.positiveCents(c.amount) ?? 0
        switch c.name {
        case "BUY":
            return a.cash >= amount ? nil : "INSUFFICIENT_FUNDS" // §10.3: free cash ≥ amount
        case "SELL":
            return a.free[c.stock, default: 0] + a.held[c.stock, default: 0] > 0 ? nil : "NOT_OWNED"
        default:
            return nil
        }
    }

    /// The rest of the command, after `preCheck` passed (and with the price when it needs one).
    /// Mutates `a` only when it succeeds; returns an error code otherwise.
    func effect(_ a: inout Account, _ c: WorkloadModelCommand, price: Int64, at t: Int64) -> String? {
        let amount = WorkloadModel.positiveCents(c.amount) ?? 0
        let sym = c.stock
        switch c.name {
        case "ADD":
            a.exists = true
            a.credit(amount, txn: c.txn)
            a.flowCents += amount
        case "QUOTE", "DISPLAY_SUMMARY", "DUMPLOG":
            break
        case "BUY":
            let shares = amount / price
            guard shares > 0 else { return "ZERO_SHARES" }
            let cost = shares * price
            a.debit(cost, txn: c.txn)
            a.buys.append(PendingBuy(symbol: sym, price: price, shares: shares, cost: cost, at: t, txn: c.txn))
        case "COMMIT_BUY":
            guard let b = a.buys.popLast() else { return "NO_PENDING_BUY" }
            a.free[b.symbol, default: 0] += b.shares
            a.flowCents -= b.cost
            a.flowShares[b.symbol, default: 0] += b.shares
        case "CANCEL_BUY":
            guard let b = a.buys.popLast() else { return "NO_PENDING_BUY" }
            a.credit(b.cost, txn: c.txn)
        case "SELL":
            let shares = amount / price
            guard shares > 0 else { return "ZERO_SHARES" }
            guard a.free[sym, default: 0] >= shares else { return "INSUFFICIENT_SHARES" }
            a.free[sym, default: 0] -= shares
            a.held[sym, default: 0] += shares
            a.sells.append(PendingSell(symbol: sym, price: price, shares: shares, at: t, txn: c.txn))
        case "COMMIT_SELL":
            guard let s = a.sells.popLast() else { return "NO_PENDING_SELL" }
            a.held[s.symbol, default: 0] -= s.shares
            a.credit(s.shares * s.price, txn: c.txn)
            a.flowCents += s.shares * s.price
            a.flowShares[s.symbol, default: 0] -= s.shares
        case "CANCEL_SELL":
            guard let s = a.sells.popLast() else { return "NO_PENDING_SELL" }
            a.held[s.symbol, default: 0] -= s.shares
            a.free[s.symbol, default: 0] += s.shares
        case "SET_BUY_AMOUNT":
            if var tr = a.buyTriggers[sym] {
                // §10.12: replace the amount, move the hold by the difference; the armed price stays.
                let diff = amount - tr.reserve
                if diff > 0 {
                    guard a.cash >= diff else { return "INSUFFICIENT_FUNDS" }
                    a.debit(diff, txn: c.txn)
                } else if diff < 0 {
                    a.credit(-diff, txn: c.txn)
                }
                tr.reserve = amount
                a.buyTriggers[sym] = tr
            } else {
                guard a.cash >= amount else { return "INSUFFICIENT_FUNDS" }
                a.debit(amount, txn: c.txn)
                a.buyTriggers[sym] = BuyTrigger(reserve: amount, price: nil, armTxn: c.txn, armedAt: t)
            }
        case "SET_BUY_TRIGGER":
            guard var tr = a.buyTriggers[sym] else { return "NO_BUY_AMOUNT" }
            guard amount <= tr.reserve else { return "ZERO_SHARES" } // §10.6: could never buy a share
            tr.price = amount
            tr.armTxn = c.txn
            tr.armedAt = t
            a.buyTriggers[sym] = tr
        case "CANCEL_SET_BUY":
            guard let tr = a.buyTriggers.removeValue(forKey: sym) else { return "NO_BUY_AMOUNT" }
            a.credit(tr.reserve, txn: c.txn)
        case "SET_SELL_AMOUNT":
            guard a.free[sym, default: 0] + a.held[sym, default: 0] > 0 else { return "NOT_OWNED" } // §10.8
            if var tr = a.sellTriggers[sym] {
                if let p = tr.price {
                    // §10.7: re-reserve at the armed price.
                    let shares = amount / p
                    guard shares > 0 else { return "ZERO_SHARES" }
                    guard shares <= a.free[sym, default: 0] + tr.reserved else { return "INSUFFICIENT_SHARES" }
                    a.free[sym, default: 0] += tr.reserved - shares
                    a.held[sym, default: 0] += shares - tr.reserved
                    tr.reserved = shares
                }
                tr.amount = amount
                a.sellTriggers[sym] = tr
            } else {
                a.sellTriggers[sym] = SellTrigger(amount: amount, price: nil, reserved: 0, armTxn: c.txn, armedAt: t)
            }
        case "SET_SELL_TRIGGER":
            guard var tr = a.sellTriggers[sym] else { return "NO_SELL_AMOUNT" }
            let shares = tr.amount / amount
            guard shares > 0 else { return "ZERO_SHARES" }
            guard shares <= a.free[sym, default: 0] + tr.reserved else { return "INSUFFICIENT_SHARES" }
            a.free[sym, default: 0] += tr.reserved - shares
            a.held[sym, default: 0] += shares - tr.reserved
            tr.reserved = shares
            tr.price = amount
            tr.armTxn = c.txn
            tr.armedAt = t
            a.sellTriggers[sym] = tr
        case "CANCEL_SET_SELL":
            guard let tr = a.sellTriggers.removeValue(forKey: sym) else { return "NO_SELL_AMOUNT" }
            a.free[sym, default: 0] += tr.reserved
            a.held[sym, default: 0] -= tr.reserved
        default:
            return "INVALID_ARGUMENT"
        }
        return nil
    }

    // MARK: triggers

    /// Applies a logged firing after checking it was due: the trigger was armed (by the logged
    /// transactionNum), the price meets it, and the price is a real quote < 60 s old (§10.5, §10.13).
    private func fire(_ a: inout Account, user: String, _ f: WorkloadLogEntry) {
        let sym = f.symbol
        guard let p = f.fundsCents, p > 0 else {
            problem("\(user) firing \(f.command) \(sym): no price in funds")
            return
        }
        let real = (log.quotesBySymbol[sym] ?? []).first {
            $0.priceCents == p && $0.timestamp > f.timestamp - 60_000 && $0.timestamp <= f.timestamp + 1000
        }
        if let real {
            usedQuotes.append(real)
        } else {
            problem(
                "\(user) firing \(f.command) \(sym) at \(WorkloadMoney.text(p)): no quote of that price in the 60 s before"
            )
        }
        let before = a
        if f.command == "SET_BUY_TRIGGER" {
            guard let tr = a.buyTriggers[sym], let tp = tr.price else {
                problem("\(user) firing SET_BUY_TRIGGER \(sym) [\(f.txn)]: no armed buy trigger in the model")
                return
            }
            if tr.armTxn != f.txn {
                problem("\(user) firing SET_BUY_TRIGGER \(sym): logged with [\(f.txn)], armed by [\(tr.armTxn)]")
            }
            let shares = tr.reserve / p
            guard p <= tp, shares > 0 else {
                problem(
                    "\(user) firing SET_BUY_TRIGGER \(sym) at \(WorkloadMoney.text(p)): trigger \(WorkloadMoney.text(tp)), reserve \(WorkloadMoney.text(tr.reserve)) — not due"
                )
                return
            }
            a.buyTriggers[sym] = nil
            a.credit(tr.reserve - shares * p, txn: tr.armTxn)
            a.free[sym, default: 0] += shares
            a.flowCents -= shares * p
            a.flowShares[sym, default: 0] += shares
        } else {
            guard let tr = a.sellTriggers[sym], let tp = tr.price else {
                problem("\(user) firing SET_SELL_TRIGGER \(sym) [\(f.txn)]: no armed sell trigger in the model")
                return
            }
            if tr.armTxn != f.txn {
                problem("\(user) firing SET_SELL_TRIGGER \(sym): logged with [\(f.txn)], armed by [\(tr.armTxn)]")
            }
            guard p >= tp else {
                problem(
                    "\(user) firing SET_SELL_TRIGGER \(sym) at \(WorkloadMoney.text(p)) below its trigger \(WorkloadMoney.text(tp))"
                )
                return
            }
            a.sellTriggers[sym] = nil
            a.held[sym, default: 0] -= tr.reserved
            a.credit(tr.reserved * p, txn: tr.armTxn)
            a.flowCents += tr.reserved * p
            a.flowShares[sym, default: 0] -= tr.reserved
        }
        firingsApplied += 1
        trackSpans(before: before, after: a, user: user, at: f.timestamp)
    }

    /// Records when each armed trigger's parameters start and stop holding.
    private func trackSpans(before: Account, after: Account, user: String, at t: Int64) {
        func key(_ b: BuyTrigger?) -> [Int64]? { b.flatMap { tr in tr.price.map { [$0, tr.reserve] } } }
        func key(_ s: SellTrigger?) -> [Int64]? { s.flatMap { tr in tr.price.map { [$0, tr.reserved] } } }
        for sym in Set(before.buyTriggers.keys).union(after.buyTriggers.keys) {
            let old = key(before.buyTriggers[sym])
            let new = key(after.buyTriggers[sym])
            guard old != new else { continue }
            if old != nil { close(user, sym, isBuy: true, at: t) }
            if let n = new {
                spans.append(
                    ArmedSpan(user: user, symbol: sym, isBuy: true, price: n[0], size: n[1], from: t, to: .max))
            }
        }
        for sym in Set(before.sellTriggers.keys).union(after.sellTriggers.keys) {
            let old = key(before.sellTriggers[sym])
            let new = key(after.sellTriggers[sym])
            guard old != new else { continue }
            if old != nil { close(user, sym, isBuy: false, at: t) }
            if let n = new {
                spans.append(
                    ArmedSpan(user: user, symbol: sym, isBuy: false, price: n[0], size: n[1], from: t, to: .max))
            }
        }
    }

    private func close(_ user: String, _ sym: String, isBuy: Bool, at t: Int64) {
        if let i = spans.lastIndex(where: { $0.user == user && $0.symbol == sym && $0.isBuy == isBuy && $0.to == .max })
        {
            spans[i].to = t
        }
    }

    private func closeSpans(user: String, at t: Int64) {
        for i in spans.indices where spans[i].user == user && spans[i].to == .max { spans[i].to = t }
    }

    /// §5/DayTrade: every fresh quote is checked against armed triggers. A hit that met a trigger
    /// armed well before it (1 s margin either side for timing) and did not fire it is a problem.
    func missedFirings() -> [String] {
        var out: [String] = []
        for s in spans {
            for q in log.quotesBySymbol[s.symbol] ?? [] where q.timestamp > s.from + 1000 && q.timestamp < s.to - 1000 {
                guard let p = q.priceCents else { continue }
                let due = s.isBuy ? (p <= s.price && s.size / p >= 1) : (p >= s.price && s.size > 0)
                if due {
                    out.append(
                        "\(s.user) \(s.isBuy ? "buy" : "sell") trigger \(s.symbol) at \(WorkloadMoney.text(s.price)) "
                            + "did not fire on the fresh quote \(WorkloadMoney.text(p)) at \(q.timestamp)")
                    break
                }
            }
        }
        return out
    }

    /// Expiry instants of the orders still pending (to stay clear of them when comparing with the database).
    func pendingExpiries() -> [Int64] {
        accounts.values.flatMap { a in a.buys.map { $0.at + 60_000 } + a.sells.map { $0.at + 60_000 } }
    }
}
