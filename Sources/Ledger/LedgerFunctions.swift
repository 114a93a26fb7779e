import ServiceCore

/// The ledger's moves as server-side functions, so a command folded into one PL/pgSQL call (one
/// round trip, see `ClassicSchema`'s migration 102) still writes `accounts` and `holdings` only
/// through code of this module. Each mirrors its `LedgerTx` / `LedgerOps` twin statement for
/// statement: a refused check returns false and changes nothing; a guard the caller's locks should
/// have made impossible raises (SQLSTATE P0001), which rolls the transaction back like
/// `LedgerInvariantError`. Callers hold the account lock (lock order: account, then holdings).
extension LedgerSchema {
    static let functions = Migration(
        4, "ledger moves as server-side functions",
        """
        -- LedgerOps.stockId: the stock's id, created on first use when p_create.
        CREATE FUNCTION ledger_stock_id(p_name TEXT, p_create BOOLEAN) RETURNS BIGINT LANGUAGE plpgsql AS $$
        DECLARE sid BIGINT;
        BEGIN
            SELECT id INTO sid FROM stocks WHERE name = p_name;
            IF sid IS NOT NULL OR NOT p_create THEN RETURN sid; END IF;
            INSERT INTO stocks (name) VALUES (p_name) ON CONFLICT (name) DO NOTHING RETURNING id INTO sid;
            IF sid IS NULL THEN SELECT id INTO sid FROM stocks WHERE name = p_name; END IF;
            RETURN sid;
        END $$;

        -- LedgerOps.credit: free cash in, within the balance bound (creating the account).
        CREATE FUNCTION ledger_credit_cash(p_user BIGINT, p_cents BIGINT) RETURNS BOOLEAN LANGUAGE plpgsql AS $$
        BEGIN
            IF p_cents < 0 OR p_cents > \(LedgerBounds.maxBalanceCents) THEN RETURN FALSE; END IF;
            INSERT INTO accounts (user_id, cash_cents) VALUES (p_user, p_cents)
            ON CONFLICT (user_id) DO UPDATE SET cash_cents = accounts.cash_cents + EXCLUDED.cash_cents
            WHERE accounts.cash_cents + accounts.reserved_cents + accounts.incoming_cents
                <= \(LedgerBounds.maxBalanceCents) - EXCLUDED.cash_cents;
            RETURN FOUND;
        END $$;

        -- LedgerOps.deposit: money from outside with its flow row; the new free cash, or NULL when the
        -- balance would pass its bound (nothing changed).
        CREATE FUNCTION ledger_deposit(p_user BIGINT, p_cents BIGINT, p_kind TEXT) RETURNS BIGINT LANGUAGE plpgsql AS $$
        DECLARE c BIGINT;
        BEGIN
            IF p_cents < 0 OR p_cents > \(LedgerBounds.maxBalanceCents) THEN RETURN NULL; END IF;
            INSERT INTO accounts (user_id, cash_cents) VALUES (p_user, p_cents)
            ON CONFLICT (user_id) DO UPDATE SET cash_cents = accounts.cash_cents + EXCLUDED.cash_cents
            WHERE accounts.cash_cents + accounts.reserved_cents + accounts.incoming_cents
                <= \(LedgerBounds.maxBalanceCents) - EXCLUDED.cash_cents
            RETURNING cash_cents INTO c;
            IF c IS NOT NULL THEN
                INSERT INTO external_flows (user_id, kind, cents, stock_id, shares) VALUES (p_user, p_kind, p_cents, NULL, 0);
            END IF;
            RETURN c;
        END $$;

        -- LedgerOps.creditShares: free shares in, within the holding bound (creating the holding).
        CREATE FUNCTION ledger_credit_shares(p_user BIGINT, p_stock BIGINT, p_shares BIGINT) RETURNS BOOLEAN
        LANGUAGE plpgsql AS $$
        BEGIN
            IF p_shares < 0 OR p_shares > \(LedgerBounds.maxHoldingShares) THEN RETURN FALSE; END IF;
            INSERT INTO holdings (user_id, stock_id, quantity) VALUES (p_user, p_stock, p_shares)
            ON CONFLICT (user_id, stock_id) DO UPDATE SET quantity = holdings.quantity + EXCLUDED.quantity
            WHERE holdings.quantity + holdings.reserved + holdings.incoming
                <= \(LedgerBounds.maxHoldingShares) - EXCLUDED.quantity;
            RETURN FOUND;
        END $$;

        -- LedgerTx.reserveCash: free cash into the reserve; false = not enough free cash.
        CREATE FUNCTION ledger_reserve_cash(p_user BIGINT, p_cents BIGINT) RETURNS BOOLEAN LANGUAGE plpgsql AS $$
        BEGIN
            IF p_cents < 0 THEN RETURN FALSE; END IF;
            UPDATE accounts SET cash_cents = cash_cents - p_cents, reserved_cents = reserved_cents + p_cents
            WHERE user_id = p_user AND cash_cents >= p_cents;
            RETURN FOUND;
        END $$;

        -- LedgerTx.releaseCash: reserved cash back to free; the reserve must hold it.
        CREATE FUNCTION ledger_release_cash(p_user BIGINT, p_cents BIGINT) RETURNS BOOLEAN LANGUAGE plpgsql AS $$
        BEGIN
            IF p_cents = 0 THEN RETURN TRUE; END IF;
            UPDATE accounts SET cash_cents = cash_cents + p_cents, reserved_cents = reserved_cents - p_cents
            WHERE user_id = p_user AND reserved_cents >= p_cents AND p_cents > 0;
            IF NOT FOUND THEN RAISE EXCEPTION 'account % cannot release % cents', p_user, p_cents; END IF;
            RETURN TRUE;
        END $$;

        -- LedgerTx.reserveShares: free shares into the reserve; false = not enough free shares.
        CREATE FUNCTION ledger_reserve_shares(p_user BIGINT, p_stock BIGINT, p_shares BIGINT) RETURNS BOOLEAN
        LANGUAGE plpgsql AS $$
        BEGIN
            IF p_shares <= 0 THEN RETURN p_shares = 0; END IF;
            UPDATE holdings SET quantity = quantity - p_shares, reserved = reserved + p_shares
            WHERE user_id = p_user AND stock_id = p_stock AND quantity >= p_shares;
            RETURN FOUND;
        END $$;

        -- LedgerTx.releaseShares: reserved shares back to free; the reserve must hold them.
        CREATE FUNCTION ledger_release_shares(p_user BIGINT, p_stock BIGINT, p_shares BIGINT) RETURNS BOOLEAN
        LANGUAGE plpgsql AS $$
        BEGIN
            IF p_shares = 0 THEN RETURN TRUE; END IF;
            UPDATE holdings SET quantity = quantity + p_shares, reserved = reserved - p_shares
            WHERE user_id = p_user AND stock_id = p_stock AND reserved >= p_shares AND p_shares > 0;
            IF NOT FOUND THEN RAISE EXCEPTION 'holding of user % cannot release % shares', p_user, p_shares; END IF;
            RETURN TRUE;
        END $$;

        -- ClassicEngine.shiftCash / shiftReserved: move a hold by p_delta (positive = hold more; the
        -- caller checked there is enough, so a refusal raises). The BOOLEAN results are always TRUE:
        -- callers assign them (a plain expression, cheaper in PL/pgSQL than PERFORM, which runs a query).
        CREATE FUNCTION ledger_shift_cash(p_user BIGINT, p_delta BIGINT) RETURNS BOOLEAN LANGUAGE plpgsql AS $$
        BEGIN
            IF p_delta > 0 THEN
                IF NOT ledger_reserve_cash(p_user, p_delta) THEN
                    RAISE EXCEPTION 'account % cannot hold % cents', p_user, p_delta;
                END IF;
            ELSIF p_delta < 0 THEN
                RETURN ledger_release_cash(p_user, -p_delta);
            END IF;
            RETURN TRUE;
        END $$;

        CREATE FUNCTION ledger_shift_shares(p_user BIGINT, p_stock BIGINT, p_delta BIGINT) RETURNS BOOLEAN
        LANGUAGE plpgsql AS $$
        BEGIN
            IF p_delta > 0 THEN
                IF NOT ledger_reserve_shares(p_user, p_stock, p_delta) THEN
                    RAISE EXCEPTION 'holding of user % cannot reserve % shares', p_user, p_delta;
                END IF;
            ELSIF p_delta < 0 THEN
                RETURN ledger_release_shares(p_user, p_stock, -p_delta);
            END IF;
            RETURN TRUE;
        END $$;

        -- LedgerTx.settleMarketBuy: the held cash leaves the reserve, p_cost of it the system; the
        -- shares arrive free. False = the holding would pass its bound (nothing changed).
        CREATE FUNCTION ledger_settle_market_buy(
            p_user BIGINT, p_stock BIGINT, p_held BIGINT, p_cost BIGINT, p_shares BIGINT, p_kind TEXT)
        RETURNS BOOLEAN LANGUAGE plpgsql AS $$
        BEGIN
            IF p_cost < 0 OR p_cost > p_held THEN
                RAISE EXCEPTION 'buy of user % costs % but holds %', p_user, p_cost, p_held;
            END IF;
            IF NOT ledger_credit_shares(p_user, p_stock, p_shares) THEN RETURN FALSE; END IF;
            UPDATE accounts SET reserved_cents = reserved_cents - p_held, cash_cents = cash_cents + (p_held - p_cost)
            WHERE user_id = p_user AND reserved_cents >= p_held;
            IF NOT FOUND THEN RAISE EXCEPTION 'account % lacks the held %', p_user, p_held; END IF;
            INSERT INTO external_flows (user_id, kind, cents, stock_id, shares)
            VALUES (p_user, p_kind, -p_cost, p_stock, p_shares);
            RETURN TRUE;
        END $$;

        -- LedgerTx.settleMarketSell: the held shares leave the reserve and the system, the proceeds
        -- arrive free. False = the balance would pass its bound (nothing changed).
        CREATE FUNCTION ledger_settle_market_sell(
            p_user BIGINT, p_stock BIGINT, p_shares BIGINT, p_proceeds BIGINT, p_kind TEXT)
        RETURNS BOOLEAN LANGUAGE plpgsql AS $$
        BEGIN
            IF NOT ledger_credit_cash(p_user, p_proceeds) THEN RETURN FALSE; END IF;
            UPDATE holdings SET reserved = reserved - p_shares
            WHERE user_id = p_user AND stock_id = p_stock AND reserved >= p_shares;
            IF NOT FOUND THEN RAISE EXCEPTION 'holding of user % lacks % held shares', p_user, p_shares; END IF;
            INSERT INTO external_flows (user_id, kind, cents, stock_id, shares)
            VALUES (p_user, p_kind, p_proceeds, p_stock, -p_shares);
            RETURN TRUE;
        END $$;
        """)
}
