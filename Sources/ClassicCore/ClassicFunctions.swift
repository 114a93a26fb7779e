import Ledger
import ServiceCore

/// The pending-order commands (BUY, SELL and their COMMIT/CANCEL) folded into one PL/pgSQL call
/// each: the account lock, its lazy-expiry check, the stock id, the pending row and the ledger
/// move (through the `ledger_*` functions) in one round trip instead of 3–6. Each mirrors its
/// Swift twin in `PendingOrders.swift` check for check and returns a status; the error sentences
/// are still made in Swift from the values returned. Status 'EXPIRE' = some pending order of the
/// user is due: the function changed nothing but the account lock, and the command runs its Swift
/// path (which expires, logs and decides) in the same transaction.
extension ClassicSchema {
    /// ClassicEngine.lockAccount's statement inside a function: locks the account row into `uid`,
    /// `cash`, `res`; `due` = some pending order of the user has expired at p_now (the caller then
    /// returns 'EXPIRE'); uid NULL = unknown user. `due` reads the user's earliest expiry
    /// (`pendingDue`).
    static let lockAccount = """
        SELECT a.user_id, a.cash_cents, a.reserved_cents, \(pendingDue("p_now"))
            INTO uid, cash, res, due
            FROM users u JOIN accounts a ON a.user_id = u.id
            WHERE u.user_name = p_user AND (p_acting IS NULL OR u.id = p_acting) FOR UPDATE OF a;
        """

    /// Whether a pending order of account `a` has expired at `now` (an SQL expression): the
    /// earliest expiry, read from the front of the (user_id, expires_ms) index. Asked as
    /// `EXISTS (… expires_ms <= now)` the planner may pick a sequential scan, priced while the
    /// table was near empty and kept by the prepared plan, then read on every command through
    /// a table of mostly dead rows (the pending rows churn): 9 % of PostgreSQL's CPU on the
    /// 100-user replay (perf). Ordered with LIMIT 1 only the index can answer cheaply.
    static func pendingDue(_ now: String) -> String {
        """
        COALESCE((SELECT p.expires_ms FROM classic_pending p WHERE p.user_id = a.user_id
                          ORDER BY p.user_id, p.expires_ms LIMIT 1) <= \(now), false)
        """
    }

    /// The end of a BUY or SELL function (side 'B' or 'S'): push its pending order, worth n
    /// shares at p_price, valid p_life ms from p_now, and answer OK.
    static func pushPending(_ side: String) -> String {
        """
        INSERT INTO classic_pending (user_id, username, side, stock_id, symbol, price_cents, shares, held_cents,
                                         created_ms, expires_ms, txn)
            VALUES (uid, p_user, '\(side)', sid, p_symbol, p_price, n, n * p_price, p_now, p_now + p_life, p_txn);
            o_status := 'OK';
        """
    }

    /// `lockAccount`, then the two answers every command gives before its own checks: no such
    /// user, or one of the user's pending orders has expired ('EXPIRE': the Swift path sweeps it).
    static let lockAccountOrStop = """
        \(lockAccount)
            IF uid IS NULL THEN o_status := 'UNKNOWN_USER'; RETURN; END IF;
            IF due THEN o_status := 'EXPIRE'; RETURN; END IF;
        """

    /// `lockAccountOrStop` for the commands whose answer carries the cash (`o_cash`) either way.
    static let lockAccountWithCashOrStop = """
        \(lockAccount)
            o_cash := cash;
            IF uid IS NULL THEN o_status := 'UNKNOWN_USER'; RETURN; END IF;
            IF due THEN o_status := 'EXPIRE'; RETURN; END IF;
        """

    /// SELL after its precheck and quote: hold the shares, push the pending row. "Owns some SYM"
    /// (§10.2, free or reserved) is checked again under the lock: a trigger firing may have sold
    /// them since the precheck's read. Migration 105 puts this body over 102's first one.
    static let sellFunction = """
        CREATE OR REPLACE FUNCTION classic_sell(p_user TEXT, p_acting BIGINT, p_now BIGINT, p_symbol TEXT,
            p_amount BIGINT, p_price BIGINT, p_life BIGINT, p_txn BIGINT, OUT o_status TEXT, OUT o_free BIGINT)
        LANGUAGE plpgsql AS $$
        DECLARE uid BIGINT; cash BIGINT; res BIGINT; due BOOLEAN; done BOOLEAN; sid BIGINT; n BIGINT; held BIGINT;
        BEGIN
            \(ClassicSchema.lockAccountOrStop)
            sid := ledger_stock_id(p_symbol, FALSE);
            IF sid IS NULL THEN o_status := 'NOT_OWNED'; RETURN; END IF;
            SELECT h.quantity, h.reserved INTO o_free, held FROM holdings h
                WHERE h.user_id = uid AND h.stock_id = sid FOR UPDATE;
            o_free := COALESCE(o_free, 0);
            IF o_free + COALESCE(held, 0) <= 0 THEN o_status := 'NOT_OWNED'; RETURN; END IF;
            n := p_amount / p_price;
            IF n <= 0 THEN o_status := 'ZERO_SHARES'; RETURN; END IF;
            IF o_free < n THEN o_status := 'INSUFFICIENT_SHARES'; RETURN; END IF;
            IF NOT ledger_reserve_shares(uid, sid, n) THEN
                RAISE EXCEPTION 'holding of user % cannot reserve % shares', uid, n;
            END IF;
            \(ClassicSchema.pushPending("S"))
        END $$;
        """

    static let sellOwnershipUnderLock = Migration(
        105, "classic SELL checks ownership again under the account lock", sellFunction)

    static let functions = Migration(
        102, "classic pending-order commands as server-side functions",
        """
        -- BUY after its precheck and quote: hold shares x price of cash, push the pending row.
        CREATE FUNCTION classic_buy(p_user TEXT, p_acting BIGINT, p_now BIGINT, p_symbol TEXT, p_amount BIGINT,
            p_price BIGINT, p_life BIGINT, p_txn BIGINT, OUT o_status TEXT, OUT o_cash BIGINT)
        LANGUAGE plpgsql AS $$
        DECLARE uid BIGINT; cash BIGINT; res BIGINT; due BOOLEAN; done BOOLEAN; sid BIGINT; n BIGINT;
        BEGIN
            \(ClassicSchema.lockAccountWithCashOrStop)
            IF o_cash < p_amount THEN o_status := 'INSUFFICIENT_FUNDS'; RETURN; END IF;
            n := p_amount / p_price;
            IF n <= 0 THEN o_status := 'ZERO_SHARES'; RETURN; END IF;
            sid := ledger_stock_id(p_symbol, TRUE);
            IF sid IS NULL THEN RAISE EXCEPTION 'stock % could not be created', p_symbol; END IF;
            IF NOT ledger_reserve_cash(uid, n * p_price) THEN
                RAISE EXCEPTION 'account % cannot hold % cents', uid, n * p_price;
            END IF;
            \(ClassicSchema.pushPending("B"))
        END $$;

        \(ClassicSchema.sellFunction)

        -- COMMIT_BUY / COMMIT_SELL: settle the newest pending order of the side with the market,
        -- then delete it (a refused settlement, 'BOUND', leaves it pending). o_cash: free cash
        -- before the settlement.
        CREATE FUNCTION classic_commit(p_user TEXT, p_acting BIGINT, p_now BIGINT, p_side CHAR(1),
            OUT o_status TEXT, OUT o_cash BIGINT, OUT o_symbol TEXT, OUT o_shares BIGINT, OUT o_price BIGINT,
            OUT o_held BIGINT)
        LANGUAGE plpgsql AS $$
        DECLARE uid BIGINT; cash BIGINT; res BIGINT; due BOOLEAN; done BOOLEAN; pid BIGINT; sid BIGINT; settled BOOLEAN;
        BEGIN
            \(ClassicSchema.lockAccountWithCashOrStop)
            SELECT p.id, p.stock_id, p.symbol, p.price_cents, p.shares, p.held_cents
            INTO pid, sid, o_symbol, o_price, o_shares, o_held
            FROM classic_pending p WHERE p.user_id = uid AND p.side = p_side ORDER BY p.id DESC LIMIT 1 FOR UPDATE;
            IF pid IS NULL THEN o_status := 'NO_PENDING'; RETURN; END IF;
            IF p_side = 'B' THEN
                settled := ledger_settle_market_buy(uid, sid, o_held, o_held, o_shares, '\(FlowKind.classicBuy.rawValue)');
            ELSE
                settled := ledger_settle_market_sell(uid, sid, o_shares, o_held, '\(FlowKind.classicSell.rawValue)');
            END IF;
            IF NOT settled THEN o_status := 'BOUND'; RETURN; END IF;
            DELETE FROM classic_pending WHERE id = pid;
            IF NOT FOUND THEN RAISE EXCEPTION 'pending order % vanished under its lock', pid; END IF;
            o_status := 'OK';
        END $$;

        -- CANCEL_BUY / CANCEL_SELL: pop the newest pending order of the side, release what it held.
        CREATE FUNCTION classic_cancel(p_user TEXT, p_acting BIGINT, p_now BIGINT, p_side CHAR(1),
            OUT o_status TEXT, OUT o_cash BIGINT, OUT o_symbol TEXT, OUT o_shares BIGINT, OUT o_price BIGINT,
            OUT o_held BIGINT)
        LANGUAGE plpgsql AS $$
        DECLARE uid BIGINT; cash BIGINT; res BIGINT; due BOOLEAN; done BOOLEAN; pid BIGINT; sid BIGINT;
        BEGIN
            \(ClassicSchema.lockAccountWithCashOrStop)
            DELETE FROM classic_pending WHERE id = (
                SELECT p.id FROM classic_pending p WHERE p.user_id = uid AND p.side = p_side
                ORDER BY p.id DESC LIMIT 1 FOR UPDATE)
            RETURNING id, stock_id, symbol, price_cents, shares, held_cents
            INTO pid, sid, o_symbol, o_price, o_shares, o_held;
            IF pid IS NULL THEN o_status := 'NO_PENDING'; RETURN; END IF;
            IF p_side = 'B' THEN
                done := ledger_release_cash(uid, o_held);
            ELSE
                done := ledger_release_shares(uid, sid, o_shares);
            END IF;
            o_status := 'OK';
        END $$;
        """)
}
