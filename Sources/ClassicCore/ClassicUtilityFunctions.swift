import Ledger
import ServiceCore

/// ADD and DISPLAY_SUMMARY folded into one call each (`UtilityCommands.swift` keeps the
/// statement-by-statement path): ADD's user upsert and deposit; DISPLAY_SUMMARY's account lock,
/// holdings, pending orders and triggers (the recent log entries stay one read of their own).
extension ClassicSchema {
    static let utilityFunctions = Migration(
        104, "classic ADD and DISPLAY_SUMMARY as server-side functions",
        """
        -- ADD: the user (created on first use, with no usable password) and the deposit.
        CREATE FUNCTION classic_add(p_user TEXT, p_acting BIGINT, p_amount BIGINT,
            OUT o_status TEXT, OUT o_cash BIGINT)
        LANGUAGE plpgsql AS $$
        DECLARE uid BIGINT;
        BEGIN
            INSERT INTO users (user_name, password_hash) VALUES (p_user, '!classic')
            ON CONFLICT (user_name) DO NOTHING RETURNING id INTO uid;
            IF uid IS NULL THEN SELECT u.id INTO uid FROM users u WHERE u.user_name = p_user; END IF;
            IF uid IS NULL THEN RAISE EXCEPTION 'user % vanished', p_user; END IF;
            IF p_acting IS NOT NULL AND p_acting <> uid THEN o_status := 'UNKNOWN_USER'; RETURN; END IF;
            o_cash := ledger_deposit(uid, p_amount, '\(FlowKind.classicAdd.rawValue)');
            o_status := CASE WHEN o_cash IS NULL THEN 'BOUND' ELSE 'OK' END;
        END $$;

        -- DISPLAY_SUMMARY: first row the status (o_n1 free cash, o_n2 reserved); then, when 'OK',
        -- 'H' holdings, 'P' pending orders and 'T' triggers in the order the Swift path reads them.
        CREATE FUNCTION classic_summary(p_user TEXT, p_acting BIGINT, p_now BIGINT)
        RETURNS TABLE (o_tag TEXT, o_t1 TEXT, o_t2 TEXT, o_n1 BIGINT, o_n2 BIGINT, o_n3 BIGINT, o_n4 BIGINT,
                       o_n5 BIGINT, o_n6 BIGINT)
        LANGUAGE plpgsql AS $$
        DECLARE uid BIGINT; cash BIGINT; res BIGINT; due BOOLEAN;
        BEGIN
            \(ClassicSchema.lockAccount)
            IF uid IS NULL OR due THEN
                RETURN QUERY SELECT CASE WHEN uid IS NULL THEN 'UNKNOWN_USER' ELSE 'EXPIRE' END,
                    NULL::TEXT, NULL::TEXT, NULL::BIGINT, NULL::BIGINT, NULL::BIGINT, NULL::BIGINT, NULL::BIGINT,
                    NULL::BIGINT;
                RETURN;
            END IF;
            RETURN QUERY SELECT 'OK'::TEXT, NULL::TEXT, NULL::TEXT, cash, res, NULL::BIGINT, NULL::BIGINT,
                NULL::BIGINT, NULL::BIGINT;
            RETURN QUERY SELECT 'H'::TEXT, s.name, NULL::TEXT, h.quantity, h.reserved, NULL::BIGINT, NULL::BIGINT,
                NULL::BIGINT, NULL::BIGINT
                FROM holdings h JOIN stocks s ON s.id = h.stock_id
                WHERE h.user_id = uid AND h.quantity + h.reserved > 0 ORDER BY s.name;
            RETURN QUERY SELECT 'P'::TEXT, p.side::TEXT, p.symbol, p.shares, p.price_cents, p.held_cents,
                p.expires_ms, p.txn, NULL::BIGINT
                FROM classic_pending p WHERE p.user_id = uid ORDER BY p.id DESC;
            RETURN QUERY SELECT 'T'::TEXT, t.side::TEXT, t.symbol, t.amount_cents, t.trigger_cents,
                t.reserved_cents, t.reserved_shares, t.armed_txn, NULL::BIGINT
                FROM classic_triggers t WHERE t.user_id = uid ORDER BY t.symbol, t.side;
        END $$;
        """)
}
