import Ledger
import ServiceCore

/// SET_*_AMOUNT / SET_*_TRIGGER / CANCEL_SET_* folded into one PL/pgSQL call each, like the
/// pending-order commands (`ClassicSchema.functions`): each mirrors its Swift twin in
/// `TriggerCommands.swift` check for check, returns a status and the values the Swift side needs
/// for its answer, sentence and log entries; 'EXPIRE' = run the Swift path. Called only with
/// valid input (the Swift path reports invalid input after the account lock, as §10 orders it).
extension ClassicSchema {
    static let triggerFunctions = Migration(
        103, "classic trigger commands as server-side functions",
        """
        -- SET_BUY_AMOUNT: (re)place the buy amount and move the cash hold by the difference.
        CREATE FUNCTION classic_set_buy_amount(p_user TEXT, p_acting BIGINT, p_now BIGINT, p_symbol TEXT,
            p_amount BIGINT, OUT o_status TEXT, OUT o_cash BIGINT, OUT o_existed BOOLEAN, OUT o_reserved BIGINT,
            OUT o_trigger BIGINT)
        LANGUAGE plpgsql AS $$
        DECLARE uid BIGINT; cash BIGINT; res BIGINT; due BOOLEAN; done BOOLEAN; sid BIGINT; delta BIGINT;
        BEGIN
            \(ClassicSchema.lockAccountWithCashOrStop)
            sid := ledger_stock_id(p_symbol, TRUE);
            IF sid IS NULL THEN RAISE EXCEPTION 'stock % could not be created', p_symbol; END IF;
            SELECT t.reserved_cents, t.trigger_cents INTO o_reserved, o_trigger FROM classic_triggers t
            WHERE t.user_id = uid AND t.side = 'B' AND t.stock_id = sid FOR UPDATE;
            o_existed := FOUND;
            delta := p_amount - COALESCE(o_reserved, 0);
            IF delta > o_cash THEN o_status := 'INSUFFICIENT_FUNDS'; RETURN; END IF;
            done := ledger_shift_cash(uid, delta);
            IF o_existed THEN
                UPDATE classic_triggers SET amount_cents = p_amount, reserved_cents = p_amount
                WHERE user_id = uid AND side = 'B' AND stock_id = sid;
            ELSE
                INSERT INTO classic_triggers (user_id, side, stock_id, username, symbol, amount_cents, reserved_cents)
                VALUES (uid, 'B', sid, p_user, p_symbol, p_amount, p_amount);
            END IF;
            o_status := 'OK';
        END $$;

        -- SET_BUY_TRIGGER: arm the buy amount's trigger at p_price.
        CREATE FUNCTION classic_set_buy_trigger(p_user TEXT, p_acting BIGINT, p_now BIGINT, p_symbol TEXT,
            p_price BIGINT, p_txn BIGINT, OUT o_status TEXT, OUT o_amount BIGINT, OUT o_reserved BIGINT)
        LANGUAGE plpgsql AS $$
        DECLARE uid BIGINT; cash BIGINT; res BIGINT; due BOOLEAN; done BOOLEAN; sid BIGINT;
        BEGIN
            \(ClassicSchema.lockAccountOrStop)
            sid := ledger_stock_id(p_symbol, FALSE);
            SELECT t.amount_cents, t.reserved_cents INTO o_amount, o_reserved FROM classic_triggers t
            WHERE t.user_id = uid AND t.side = 'B' AND t.stock_id = sid FOR UPDATE;
            IF NOT FOUND THEN o_status := 'NO_AMOUNT'; RETURN; END IF;
            IF p_price > o_reserved THEN o_status := 'ZERO_SHARES'; RETURN; END IF;
            UPDATE classic_triggers SET trigger_cents = p_price, armed_txn = p_txn
            WHERE user_id = uid AND side = 'B' AND stock_id = sid;
            o_status := 'OK';
        END $$;

        -- CANCEL_SET_BUY / CANCEL_SET_SELL: delete the trigger, release what it held.
        CREATE FUNCTION classic_cancel_set(p_user TEXT, p_acting BIGINT, p_now BIGINT, p_symbol TEXT, p_side CHAR(1),
            OUT o_status TEXT, OUT o_cash BIGINT, OUT o_amount BIGINT, OUT o_trigger BIGINT, OUT o_reserved BIGINT,
            OUT o_shares BIGINT)
        LANGUAGE plpgsql AS $$
        DECLARE uid BIGINT; cash BIGINT; res BIGINT; due BOOLEAN; done BOOLEAN; sid BIGINT;
        BEGIN
            \(ClassicSchema.lockAccountWithCashOrStop)
            sid := ledger_stock_id(p_symbol, FALSE);
            DELETE FROM classic_triggers t WHERE t.user_id = uid AND t.side = p_side AND t.stock_id = sid
            RETURNING t.amount_cents, t.trigger_cents, t.reserved_cents, t.reserved_shares
            INTO o_amount, o_trigger, o_reserved, o_shares;
            IF NOT FOUND THEN o_status := 'NO_AMOUNT'; RETURN; END IF;
            IF p_side = 'B' THEN
                done := ledger_shift_cash(uid, -o_reserved);
            ELSE
                done := ledger_shift_shares(uid, sid, -o_shares);
            END IF;
            o_status := 'OK';
        END $$;

        -- SET_SELL_AMOUNT: (re)place the sell amount; an armed trigger re-reserves at its price.
        CREATE FUNCTION classic_set_sell_amount(p_user TEXT, p_acting BIGINT, p_now BIGINT, p_symbol TEXT,
            p_amount BIGINT, OUT o_status TEXT, OUT o_existed BOOLEAN, OUT o_trigger BIGINT, OUT o_free BIGINT,
            OUT o_reserved_shares BIGINT)
        LANGUAGE plpgsql AS $$
        DECLARE uid BIGINT; cash BIGINT; res BIGINT; due BOOLEAN; done BOOLEAN; sid BIGINT; held BIGINT; want BIGINT; now_reserved BIGINT;
        BEGIN
            \(ClassicSchema.lockAccountOrStop)
            sid := ledger_stock_id(p_symbol, FALSE);
            IF sid IS NULL THEN o_status := 'NOT_OWNED'; RETURN; END IF;
            -- Lock order everywhere: account, trigger, holding.
            SELECT t.trigger_cents, t.reserved_shares INTO o_trigger, o_reserved_shares FROM classic_triggers t
            WHERE t.user_id = uid AND t.side = 'S' AND t.stock_id = sid FOR UPDATE;
            o_existed := FOUND;
            SELECT h.quantity, h.reserved INTO o_free, held FROM holdings h
            WHERE h.user_id = uid AND h.stock_id = sid FOR UPDATE;
            o_free := COALESCE(o_free, 0);
            IF o_free + COALESCE(held, 0) <= 0 THEN o_status := 'NOT_OWNED'; RETURN; END IF;
            now_reserved := COALESCE(o_reserved_shares, 0);
            IF o_existed AND o_trigger IS NOT NULL THEN
                want := p_amount / o_trigger;
                IF want <= 0 THEN o_status := 'ZERO_SHARES'; RETURN; END IF;
                IF want > o_free + o_reserved_shares THEN o_status := 'INSUFFICIENT_SHARES'; RETURN; END IF;
                done := ledger_shift_shares(uid, sid, want - o_reserved_shares);
                now_reserved := want;
            END IF;
            IF o_existed THEN
                UPDATE classic_triggers SET amount_cents = p_amount, reserved_shares = now_reserved
                WHERE user_id = uid AND side = 'S' AND stock_id = sid;
            ELSE
                INSERT INTO classic_triggers (user_id, side, stock_id, username, symbol, amount_cents)
                VALUES (uid, 'S', sid, p_user, p_symbol, p_amount);
            END IF;
            o_reserved_shares := now_reserved;
            o_status := 'OK';
        END $$;

        -- SET_SELL_TRIGGER: arm the sell amount's trigger at p_price, reserving amount / price shares.
        CREATE FUNCTION classic_set_sell_trigger(p_user TEXT, p_acting BIGINT, p_now BIGINT, p_symbol TEXT,
            p_price BIGINT, p_txn BIGINT, OUT o_status TEXT, OUT o_amount BIGINT, OUT o_free BIGINT,
            OUT o_reserved_shares BIGINT)
        LANGUAGE plpgsql AS $$
        DECLARE uid BIGINT; cash BIGINT; res BIGINT; due BOOLEAN; done BOOLEAN; sid BIGINT; want BIGINT;
        BEGIN
            \(ClassicSchema.lockAccountOrStop)
            sid := ledger_stock_id(p_symbol, FALSE);
            SELECT t.amount_cents, t.reserved_shares INTO o_amount, o_reserved_shares FROM classic_triggers t
            WHERE t.user_id = uid AND t.side = 'S' AND t.stock_id = sid FOR UPDATE;
            IF NOT FOUND THEN o_status := 'NO_AMOUNT'; RETURN; END IF;
            want := o_amount / p_price;
            IF want <= 0 THEN o_status := 'ZERO_SHARES'; RETURN; END IF;
            SELECT h.quantity INTO o_free FROM holdings h WHERE h.user_id = uid AND h.stock_id = sid FOR UPDATE;
            o_free := COALESCE(o_free, 0);
            IF want > o_free + o_reserved_shares THEN o_status := 'INSUFFICIENT_SHARES'; RETURN; END IF;
            done := ledger_shift_shares(uid, sid, want - o_reserved_shares);
            UPDATE classic_triggers SET trigger_cents = p_price, armed_txn = p_txn, reserved_shares = want
            WHERE user_id = uid AND side = 'S' AND stock_id = sid;
            o_status := 'OK';
        END $$;
        """)
}
