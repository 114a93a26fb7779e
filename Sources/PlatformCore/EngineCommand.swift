import Dispatch
import Ledger
import OrderBook
import ServiceCore

/// What a worker thread asks the engine thread to do.
enum EngineCommand: Sendable {
    case place(userId: Int64, order: PlaceOrderRequest, key: IdempotencyTicket?)
    case cancel(userId: Int64, stockTxId: Int64, key: IdempotencyTicket?)
    case amend(userId: Int64, order: AmendOrderRequest, key: IdempotencyTicket?)
    case deposit(userId: Int64, cents: Int64, key: IdempotencyTicket?)
    /// Drop all in-memory state and rebuild it from the ledger (tests, after truncating tables).
    case reset
    /// Report the books' resting orders.
    case inspect

    /// The Idempotency-Key ticket whose outcome is stored in the command's batch.
    var key: IdempotencyTicket? {
        switch self {
        case .place(_, _, let k), .cancel(_, _, let k), .amend(_, _, let k), .deposit(_, _, let k): return k
        case .reset, .inspect: return nil
        }
    }

    var runsAlone: Bool {
        switch self {
        case .reset, .inspect: return true
        default: return false
        }
    }
}

/// The engine's answer: success, or an HTTP status with a sentence.
public enum EngineOutcome: Sendable, Equatable {
    case ok
    case failed(status: Int, message: String)
}

extension EngineOutcome {
    /// The HTTP answer, exactly as a replay of a stored outcome repeats it.
    public var response: HTTPResponse {
        switch self {
        case .ok: return .json(.object([("success", .bool(true)), ("data", .null)]))
        case .failed(let status, let message):
            // An outage (the ledger unreachable, a restart): the client may repeat after a pause.
            let r = HTTPResponse.error(status, message)
            return status == 503 ? r.retryAfter() : r
        }
    }
}

/// One queued command and the slot its answer goes to. The worker waits on `done`, which the
/// engine signals only after the batch holding the command committed (or failed as a whole).
final class Ticket: @unchecked Sendable {
    let command: EngineCommand
    private let done = DispatchSemaphore(value: 0)
    private(set) var outcome: EngineOutcome = .failed(status: 500, message: "not processed")
    /// Data an answer carries (inspection only).
    var payload: JSON?

    init(_ command: EngineCommand) { self.command = command }

    func finish(_ outcome: EngineOutcome) {
        self.outcome = outcome
        done.signal()
    }

    func wait() -> EngineOutcome {
        done.wait()
        return outcome
    }
}

/// A rule failure inside a batch that rejects one command (400/404) without touching the rest.
struct Rejection: Error {
    let status: Int
    let message: String
    init(_ status: Int, _ message: String) {
        self.status = status
        self.message = message
    }
}

extension Rejection {
    /// The book refused a limit order (its escrow is already given back): a sentence for the
    /// client rather than the book's enum case.
    static func limitOrder(_ why: OrderBookError, quantity: Int64) -> Rejection {
        switch why {
        case .insufficientLiquidity:
            return Rejection(
                400,
                "fill-or-kill: fewer than \(quantity) shares available at or better than the limit price; nothing traded"
            )
        case .overflow:
            return Rejection(400, "the order would take this stock's resting volume past the ledger's bound")
        case .invalidQuantity: return Rejection(400, "quantity must be greater than 0")
        case .invalidPrice: return Rejection(400, "price must be greater than 0")
        case .exceedsMaxCost: return Rejection(400, "insufficient funds")
        case .duplicateOrderId, .sequenceOutOfOrder, .notFound, .notOwner:
            return Rejection(400, "order rejected by the book")
        }
    }
}

/// Broken invariant: the book and the ledger disagree. Fails the batch (rolled back,
/// books rebuilt from the ledger).
struct EngineInvariantError: Error, CustomStringConvertible {
    let description: String
}
