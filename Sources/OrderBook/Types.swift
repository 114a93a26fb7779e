// Public value types of the matching engine. Prices are integer cents, quantities whole shares,
// both Int64; ids are the ledger's bigint ids.

/// `Side` under a name that does not clash with the ledger's classic `Side` where both are imported.
public typealias OrderSide = Side

public enum Side: UInt8, Sendable, Hashable, CaseIterable {
    case buy
    case sell

    @inlinable public var opposite: Side { self == .buy ? .sell : .buy }
}

public enum OrderKind: UInt8, Sendable, Hashable, CaseIterable {
    /// Matches while the opposite side crosses its limit price; the remainder rests.
    case limit
    /// Fill-or-kill against the opposite side; never rests.
    case market
}

/// How long a limit order's unfilled part lives.
public enum TimeInForce: UInt8, Sendable, Hashable, CaseIterable {
    /// Good till cancelled: the remainder rests.
    case gtc
    /// Immediate or cancel: match what crosses now, cancel the remainder.
    case ioc
    /// Fill or kill: fill all of it now or reject it with the book untouched.
    case fok
}

/// An incoming order. `price` is the limit price (ignored for market orders); `maxCost` caps the
/// total cost of a market buy (fill-or-kill on funds) and is ignored otherwise; `timeInForce`
/// applies to limit orders (market orders are always fill-or-kill).
public struct Order: Sendable, Hashable {
    public var id: Int64
    public var owner: Int64
    public var side: Side
    public var kind: OrderKind
    public var quantity: Int64
    public var price: Int64
    public var maxCost: Int64?
    public var timeInForce: TimeInForce

    @inlinable
    public init(
        id: Int64, owner: Int64, side: Side, kind: OrderKind, quantity: Int64, price: Int64 = 0,
        maxCost: Int64? = nil, timeInForce: TimeInForce = .gtc
    ) {
        self.id = id
        self.owner = owner
        self.side = side
        self.kind = kind
        self.quantity = quantity
        self.price = price
        self.maxCost = maxCost
        self.timeInForce = timeInForce
    }

    @inlinable
    public static func limit(
        id: Int64, owner: Int64, side: Side, quantity: Int64, price: Int64,
        timeInForce: TimeInForce = .gtc
    ) -> Order {
        Order(
            id: id, owner: owner, side: side, kind: .limit, quantity: quantity, price: price, timeInForce: timeInForce)
    }

    @inlinable
    public static func market(id: Int64, owner: Int64, side: Side, quantity: Int64, maxCost: Int64? = nil) -> Order {
        Order(id: id, owner: owner, side: side, kind: .market, quantity: quantity, maxCost: maxCost)
    }
}

/// One execution: always at the maker's (resting order's) price.
public struct Fill: Sendable, Hashable {
    public var makerOrderId: Int64
    public var makerOwner: Int64
    public var takerOrderId: Int64
    public var price: Int64
    public var quantity: Int64
    /// What is left of the maker order after this fill (0 = the maker is now completely filled).
    public var makerRemaining: Int64

    @inlinable
    public init(
        makerOrderId: Int64, makerOwner: Int64, takerOrderId: Int64, price: Int64, quantity: Int64,
        makerRemaining: Int64
    ) {
        self.makerOrderId = makerOrderId
        self.makerOwner = makerOwner
        self.takerOrderId = takerOrderId
        self.price = price
        self.quantity = quantity
        self.makerRemaining = makerRemaining
    }

    /// quantity × price. Cannot overflow: every resting order's remaining × price fits in Int64
    /// (checked when it was placed or restored) and a fill never exceeds the maker's remainder.
    @inlinable public var notional: Int64 { quantity &* price }
}

/// An order sitting in the book (also the input of `restore`).
public struct RestingOrder: Sendable, Hashable {
    public var id: Int64
    public var owner: Int64
    public var side: Side
    public var price: Int64
    /// Unfilled quantity.
    public var remaining: Int64
    /// Time priority: lower is earlier within a price level.
    public var sequence: UInt64

    @inlinable
    public init(id: Int64, owner: Int64, side: Side, price: Int64, remaining: Int64, sequence: UInt64) {
        self.id = id
        self.owner = owner
        self.side = side
        self.price = price
        self.remaining = remaining
        self.sequence = sequence
    }
}

/// Aggregate of one price level.
public struct PriceLevel: Sendable, Hashable {
    public var price: Int64
    public var quantity: Int64
    public var orderCount: Int

    @inlinable
    public init(price: Int64, quantity: Int64, orderCount: Int) {
        self.price = price
        self.quantity = quantity
        self.orderCount = orderCount
    }
}

public enum OrderBookError: Error, Sendable, Hashable {
    /// quantity ≤ 0.
    case invalidQuantity
    /// limit price ≤ 0 (or a negative maxCost).
    case invalidPrice
    /// An order with this id is already resting in the book.
    case duplicateOrderId
    /// Market or FOK order: the opposite side (excluding the owner's own orders, within the limit
    /// price for FOK) cannot fill all of it.
    case insufficientLiquidity
    /// Market buy: filling all of it would cost more than `maxCost`.
    case exceedsMaxCost
    /// quantity × price, a cost sum, or a side's total volume would not fit in Int64.
    case overflow
    /// An explicit sequence lower than one already handed out.
    case sequenceOutOfOrder
    /// Cancel/amend: no resting order with this id.
    case notFound
    /// Cancel/amend: the order belongs to someone else.
    case notOwner
}

/// What happened to the taker.
public enum TakerOutcome: Sendable, Hashable {
    /// Completely filled (a limit order that crossed for its whole quantity, or a market order).
    case filled
    /// A limit order whose unfilled `remaining` now rests in the book (there may have been fills first).
    case rested(remaining: Int64)
    /// An IOC limit order whose unfilled `remaining` (> 0) was cancelled (there may have been fills first).
    case cancelled(remaining: Int64)
    /// Nothing happened: the book is unchanged and there are no fills.
    case rejected(OrderBookError)
}

/// Result of `submit(_:fills:)` without the fills (they go to the caller's buffer).
public struct SubmitReport: Sendable, Hashable {
    public var outcome: TakerOutcome
    /// Sum of the fills' quantities.
    public var filledQuantity: Int64
    /// Sum of the fills' notionals (what a buyer pays / a seller receives).
    public var cost: Int64
    /// Sequence assigned to the order (0 when rejected).
    public var sequence: UInt64

    @inlinable
    public init(outcome: TakerOutcome, filledQuantity: Int64, cost: Int64, sequence: UInt64) {
        self.outcome = outcome
        self.filledQuantity = filledQuantity
        self.cost = cost
        self.sequence = sequence
    }

    @inlinable public var isRejected: Bool {
        if case .rejected = outcome { return true }
        return false
    }
}

/// Result of `submit(_:)`: the report plus its fills in execution order.
public struct SubmitResult: Sendable, Hashable {
    public var outcome: TakerOutcome
    public var fills: [Fill]
    public var filledQuantity: Int64
    public var cost: Int64
    public var sequence: UInt64

    @inlinable
    public init(report: SubmitReport, fills: [Fill]) {
        self.outcome = report.outcome
        self.fills = fills
        self.filledQuantity = report.filledQuantity
        self.cost = report.cost
        self.sequence = report.sequence
    }
}

/// Preview of filling `quantity` against the book without changing it.
public struct CostQuote: Sendable, Hashable {
    /// Quantity the opposite side (excluding the owner's orders) could fill, ≤ the asked quantity.
    public var fillable: Int64
    /// Cost (or proceeds) of filling `fillable`.
    public var cost: Int64

    @inlinable
    public init(fillable: Int64, cost: Int64) {
        self.fillable = fillable
        self.cost = cost
    }
}

/// Result of `amend`: the order as it rested before, and what the amended order did.
public struct AmendReport: Sendable, Hashable {
    /// The order before the amend (its `remaining` and `price` are what the caller had escrowed).
    public var previous: RestingOrder
    /// `.rested` with the new remainder, or `.filled` when a re-priced order crossed completely;
    /// `sequence` is the kept sequence when priority was kept, else the new one.
    public var report: SubmitReport
    /// True when the order kept its place (same price, quantity not raised).
    public var keptPriority: Bool

    @inlinable
    public init(previous: RestingOrder, report: SubmitReport, keptPriority: Bool) {
        self.previous = previous
        self.report = report
        self.keptPriority = keptPriority
    }
}

/// Result of `amend(orderId:owner:quantity:price:sequence:)`: the report plus the fills a
/// re-priced order made, in execution order.
public struct AmendResult: Sendable, Hashable {
    public var report: AmendReport
    public var fills: [Fill]

    @inlinable
    public init(report: AmendReport, fills: [Fill]) {
        self.report = report
        self.fills = fills
    }
}
