import OrderBook
import Testing

/// Random order streams run against the real book and the reference book; every result, every
/// fill and the book state must agree, and quantity must be conserved.
@Suite("Property: real book ≡ reference book")
struct PropertyTests {
    /// Few owners (so self-trade skipping is frequent), a narrow price band (deep levels, many
    /// crossings), occasional restores of cancelled orders at their old sequence, explicit
    /// sequences, duplicate ids, bad inputs and near-overflow prices.
    @Test(arguments: Array(UInt64(1)...120))
    func randomStreamsMatchTheReference(seed: UInt64) throws {
        var rng = SeededRNG(seed: seed)
        var book = OrderBook(expectedOrders: 4) // tiny: exercises index growth
        var ref = ReferenceBook()
        var nextId: Int64 = 1
        var known: [RestingOrder] = [] // every order that ever rested (for cancels/restores)
        var cancelled: [RestingOrder] = []
        var inBook: Int64 = 0 // conservation ledger: rested − cancelled − filled
        let owners = Int64(1)...Int64.random(in: 2...6, using: &rng)
        let mid = Int64.random(in: 50...5000, using: &rng)
        let spread = Int64.random(in: 1...8, using: &rng)
        let operations = 2500

        for step in 0..<operations {
            let roll = Int.random(in: 0..<100, using: &rng)
            let owner = Int64.random(in: owners, using: &rng)
            if roll < 50 {
                // Limit order around the mid; sometimes bad input or a duplicate id.
                let side: Side = Bool.random(using: &rng) ? .buy : .sell
                var price = mid + Int64.random(in: -spread...spread, using: &rng)
                var qty = Int64.random(in: 1...20, using: &rng)
                var id = nextId
                nextId += 1
                switch Int.random(in: 0..<200, using: &rng) {
                case 0: qty = 0
                case 1: price = 0
                case 2: if let k = known.randomElement(using: &rng) { id = k.id }
                case 3: qty = Int64.max / price + 1
                default: break
                }
                var sequence: UInt64?
                if Int.random(in: 0..<40, using: &rng) == 0 {
                    sequence = book.nextSequence + UInt64.random(in: 0...3, using: &rng) &- 1
                }
                let tif: TimeInForce = [.gtc, .gtc, .gtc, .gtc, .ioc, .fok].randomElement(using: &rng) ?? .gtc
                let order = Order.limit(id: id, owner: owner, side: side, quantity: qty, price: price, timeInForce: tif)
                try check(order, sequence: sequence, &book, &ref, &inBook, &known)
            } else if roll < 68 {
                let side: Side = Bool.random(using: &rng) ? .buy : .sell
                let qty = Int64.random(in: 1...40, using: &rng)
                var maxCost: Int64?
                if side == .buy, Bool.random(using: &rng) {
                    // Around the real cost so both outcomes happen.
                    let q = ref.quote(side: .buy, quantity: qty, owner: owner)?.cost ?? 0
                    maxCost = q + Int64.random(in: -2...2, using: &rng)
                }
                let order = Order.market(id: nextId, owner: owner, side: side, quantity: qty, maxCost: maxCost)
                nextId += 1
                try check(order, sequence: nil, &book, &ref, &inBook, &known)
            } else if roll < 80 {
                try checkAmend(
                    rng: &rng, owner: owner, mid: mid, spread: spread, &book, &ref, &inBook, &known,
                    context: "seed \(seed) step \(step)")
            } else if roll < 95 {
                // Cancel: usually a known id with its owner, sometimes the wrong owner or an unknown id.
                guard let target = known.randomElement(using: &rng) else { continue }
                let id = Int.random(in: 0..<20, using: &rng) == 0 ? -target.id : target.id
                let who = Int.random(in: 0..<8, using: &rng) == 0 ? owner : target.owner
                let expected = ref.cancel(orderId: id, owner: who)
                let actual = Result { () throws(OrderBookError) in try book.cancel(orderId: id, owner: who) }
                #expect(actual == expected, "seed \(seed) step \(step): cancel \(id)")
                if case .success(let o) = expected {
                    inBook -= o.remaining
                    cancelled.append(o)
                }
            } else {
                // Restore a cancelled order at its old sequence (or anything, to hit validation).
                guard var o = cancelled.randomElement(using: &rng) else { continue }
                if Int.random(in: 0..<10, using: &rng) == 0 { o.remaining = 0 }
                let expected = ref.restore(o)
                let actual = Result { () throws(OrderBookError) in try book.restore(o) }
                #expect(
                    actual.isSuccess == expected.isSuccess && actual.failure == expected.failure,
                    "seed \(seed) step \(step): restore \(o)")
                if expected.isSuccess { inBook += o.remaining }
            }

            #expect(book.volume(.buy) + book.volume(.sell) == inBook, "seed \(seed) step \(step): conservation")
            if step % 50 == 0 || step == operations - 1 {
                try compareState(book, ref, seed: seed, step: step, owners: owners, rng: &rng)
            }
        }

        // Rebuilding from a shuffled snapshot yields the same book, which then behaves the same.
        var snapshot = book.orders(.buy) + book.orders(.sell)
        snapshot.shuffle(using: &rng)
        var rebuilt = OrderBook()
        for o in snapshot { try rebuilt.restore(o) }
        #expect(rebuilt.orders(.buy) == book.orders(.buy) && rebuilt.orders(.sell) == book.orders(.sell))
        for _ in 0..<200 {
            let side: Side = Bool.random(using: &rng) ? .buy : .sell
            let order = Order.limit(
                id: nextId, owner: Int64.random(in: owners, using: &rng), side: side,
                quantity: Int64.random(in: 1...30, using: &rng),
                price: mid + Int64.random(in: -spread...spread, using: &rng))
            nextId += 1
            let seq = max(book.nextSequence, rebuilt.nextSequence)
            #expect(book.submit(order, sequence: seq).fills == rebuilt.submit(order, sequence: seq).fills)
        }
    }

    /// Runs one order through both books and compares everything about the result.
    func check(
        _ order: Order, sequence: UInt64?, _ book: inout OrderBook, _ ref: inout ReferenceBook,
        _ inBook: inout Int64, _ known: inout [RestingOrder]
    ) throws {
        let oppositeBefore = book.volume(order.side.opposite)
        let expected = ref.submit(order, sequence: sequence)
        var fills: [Fill] = []
        let report = book.submit(order, sequence: sequence, fills: &fills)
        let actual = SubmitResult(report: report, fills: fills)
        #expect(actual == expected, "order \(order)")

        // Conservation: what makers lost = what the taker got = the fills.
        let filled = fills.reduce(Int64(0)) { $0 + $1.quantity }
        #expect(filled == report.filledQuantity)
        #expect(oppositeBefore - book.volume(order.side.opposite) == filled)
        #expect(fills.reduce(Int64(0)) { $0 + $1.notional } == report.cost)
        #expect(fills.allSatisfy { $0.takerOrderId == order.id && $0.makerOwner != order.owner && $0.quantity > 0 })
        inBook -= filled
        switch report.outcome {
        case .filled:
            #expect(filled == order.quantity)
        case .rested(let remaining):
            #expect(filled + remaining == order.quantity)
            inBook += remaining
            known.append(try #require(book.order(id: order.id)))
        case .cancelled(let remaining):
            #expect(order.timeInForce == .ioc && remaining > 0 && filled + remaining == order.quantity)
            #expect(book.order(id: order.id) == nil)
        case .rejected:
            #expect(filled == 0 && report.cost == 0)
        }
        if order.timeInForce == .fok && !report.isRejected { #expect(filled == order.quantity) }
        // A buy limit never pays more than its limit; a sell limit never gets less.
        if order.kind == .limit {
            for f in fills { #expect(order.side == .buy ? f.price <= order.price : f.price >= order.price) }
        }
    }

    /// Amends a known order (sometimes with a wrong owner, an unknown id or bad values) in both
    /// books: same error or same report and fills, and quantity conserved.
    func checkAmend(
        rng: inout SeededRNG, owner: Int64, mid: Int64, spread: Int64, _ book: inout OrderBook,
        _ ref: inout ReferenceBook, _ inBook: inout Int64, _ known: inout [RestingOrder], context: String
    ) throws {
        guard let target = known.randomElement(using: &rng) else { return }
        let id = Int.random(in: 0..<20, using: &rng) == 0 ? -target.id : target.id
        let who = Int.random(in: 0..<10, using: &rng) == 0 ? owner : target.owner
        // Ids are reused once an order is gone, so the live order may differ from the one recorded.
        let live = ref.resting.first { $0.id == target.id } ?? target
        let current = live.remaining
        var quantity: Int64?
        switch Int.random(in: 0..<10, using: &rng) {
        case 0...2: quantity = nil
        case 3...5: quantity = Int64.random(in: 1...max(current, 1), using: &rng) // down (or same)
        case 6...8: quantity = current + Int64.random(in: 1...10, using: &rng) // up
        default: quantity = Int64.random(in: -1...0, using: &rng)
        }
        var price: Int64? = Bool.random(using: &rng) ? nil : mid + Int64.random(in: -spread...spread, using: &rng)
        if Int.random(in: 0..<30, using: &rng) == 0 { price = 0 }
        var sequence: UInt64?
        if Int.random(in: 0..<20, using: &rng) == 0 {
            sequence = book.nextSequence + UInt64.random(in: 0...2, using: &rng) &- 1
        }

        let oppositeBefore = book.volume(live.side.opposite)
        let expected = ref.amend(orderId: id, owner: who, quantity: quantity, price: price, sequence: sequence)
        let actual = Result { () throws(OrderBookError) in
            try book.amend(orderId: id, owner: who, quantity: quantity, price: price, sequence: sequence)
        }
        #expect(
            actual == expected,
            "\(context): amend \(id) q \(String(describing: quantity)) p \(String(describing: price))")
        guard case .success(let result) = actual else { return }
        let a = result.report
        let fills = result.fills
        let filled = fills.reduce(Int64(0)) { $0 + $1.quantity }
        #expect(filled == a.report.filledQuantity && oppositeBefore - book.volume(live.side.opposite) == filled)
        #expect(fills.allSatisfy { $0.takerOrderId == live.id && $0.makerOwner != live.owner })
        inBook -= a.previous.remaining + filled
        if case .rested(let remaining) = a.report.outcome {
            inBook += remaining
            #expect(book.order(id: target.id)?.remaining == remaining)
            if a.keptPriority { #expect(book.order(id: target.id)?.sequence == a.previous.sequence) }
        } else {
            #expect(book.order(id: target.id) == nil)
        }
    }

    func compareState(
        _ book: OrderBook, _ ref: ReferenceBook, seed: UInt64, step: Int,
        owners: ClosedRange<Int64>, rng: inout SeededRNG
    ) throws {
        for side in Side.allCases {
            let expected = ref.orders(side)
            #expect(book.orders(side) == expected, "seed \(seed) step \(step): \(side) orders")
            #expect(book.volume(side) == ref.volume(side))
            #expect(book.orderCount(side) == expected.count)
            // Depth derived from the reference orders.
            var levels: [PriceLevel] = []
            for o in expected {
                if levels.last?.price == o.price {
                    levels[levels.count - 1].quantity += o.remaining
                    levels[levels.count - 1].orderCount += 1
                } else {
                    levels.append(PriceLevel(price: o.price, quantity: o.remaining, orderCount: 1))
                }
            }
            #expect(book.depth(side) == levels)
            let quantity = Int64.random(in: 1...60, using: &rng)
            let owner = Int64.random(in: owners, using: &rng)
            let quote = Result { () throws(OrderBookError) in
                try book.quoteCost(side: side, quantity: quantity, owner: owner)
            }
            let refQuote: Result<CostQuote, OrderBookError>
            if let q = ref.quote(side: side, quantity: quantity, owner: owner) {
                refQuote = .success(q)
            } else {
                refQuote = .failure(.overflow)
            }
            #expect(quote == refQuote)
        }
        #expect(book.bestBid?.price == ref.orders(.buy).first?.price)
        #expect(book.bestAsk?.price == ref.orders(.sell).first?.price)
        #expect(book.lastTradePrice == ref.lastTradePrice)
        #expect(book.nextSequence == ref.nextSequence)
        for o in ref.resting { #expect(book.order(id: o.id) == o) }
    }
}

extension Result {
    var isSuccess: Bool { if case .success = self { return true } else { return false } }
    var failure: Failure? { if case .failure(let e) = self { return e } else { return nil } }
}
