import Ledger
import ServiceCore

/// Tables of the order-book platform (migration versions 200–299). Money is integer cents,
/// quantities whole shares. Only the matching engine writes them.
///
/// A stock transaction is an order (a parent: `parent_id` NULL) or one fill of an order (a child).
/// Ids of both tables come from one sequence that the single engine draws from in blocks, so an
/// id is also the order in which the engine accepted things (`seq` is the book's time priority).
public enum PlatformSchema {
    public static let migrations: [Migration] = [
        Migration(
            200, "platform stock and wallet transactions",
            """
            CREATE SEQUENCE platform_ids;
            CREATE TABLE stock_transactions (
                id           BIGINT PRIMARY KEY,
                user_id      BIGINT NOT NULL REFERENCES users(id),
                stock_id     BIGINT NOT NULL REFERENCES stocks(id),
                parent_id    BIGINT REFERENCES stock_transactions(id),
                -- no FK: the wallet row references this one; both are written by the engine together
                wallet_tx_id BIGINT,
                status       TEXT NOT NULL CHECK (status IN ('IN_PROGRESS', 'PARTIALLY_COMPLETE', 'COMPLETED', 'CANCELLED')),
                is_buy       BOOLEAN NOT NULL,
                order_type   TEXT NOT NULL CHECK (order_type IN ('MARKET', 'LIMIT')),
                price_cents  BIGINT NOT NULL CHECK (price_cents >= 0),
                quantity     BIGINT NOT NULL CHECK (quantity > 0),
                -- unfilled part; > 0 with an open status = resting in the book
                remaining    BIGINT NOT NULL CHECK (remaining >= 0),
                created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
                seq          BIGINT NOT NULL
            );
            CREATE INDEX stock_transactions_user ON stock_transactions (user_id, seq);
            CREATE INDEX stock_transactions_open ON stock_transactions (seq)
                WHERE status IN ('IN_PROGRESS', 'PARTIALLY_COMPLETE');
            CREATE INDEX stock_transactions_fills ON stock_transactions (stock_id, seq) WHERE parent_id IS NOT NULL;
            CREATE TABLE wallet_transactions (
                id           BIGINT PRIMARY KEY,
                user_id      BIGINT NOT NULL REFERENCES users(id),
                stock_tx_id  BIGINT NOT NULL REFERENCES stock_transactions(id),
                is_debit     BOOLEAN NOT NULL,
                amount_cents BIGINT NOT NULL CHECK (amount_cents > 0),
                created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
            );
            CREATE INDEX wallet_transactions_user ON wallet_transactions (user_id, id);
            """)
    ]

    /// Everything a service using the platform tables applies at start-up.
    /// The engine's own connections carry this application_name, so the trigger below only
    /// reports cash changes made by everyone else (classic commands, triggers, expiry sweeps).
    public static let engineApplicationName = "dt-matching-engine"

    static let walletNotify = Migration(
        201, "notify wallet changes made outside the engine",
        """
        CREATE FUNCTION notify_wallet_change() RETURNS trigger AS $$
        BEGIN
            IF current_setting('application_name', true) IS DISTINCT FROM '\(engineApplicationName)'
               AND (TG_OP = 'INSERT' OR NEW.cash_cents IS DISTINCT FROM OLD.cash_cents) THEN
                PERFORM pg_notify('wallet_changed', NEW.user_id::TEXT);
            END IF;
            RETURN NULL;
        END $$ LANGUAGE plpgsql;
        CREATE TRIGGER accounts_wallet_notify AFTER INSERT OR UPDATE ON accounts
            FOR EACH ROW EXECUTE FUNCTION notify_wallet_change();
        """)

    /// A version per account row, bumped whenever its cash changes, so the wallet cache can
    /// compare-and-set and never re-cache a balance read before a later commit.
    static let accountVersions = Migration(
        203, "account versions for the wallet cache",
        """
        ALTER TABLE accounts ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
        CREATE FUNCTION bump_account_version() RETURNS trigger AS $$
        BEGIN
            IF NEW.cash_cents IS DISTINCT FROM OLD.cash_cents THEN
                NEW.version := OLD.version + 1;
            END IF;
            RETURN NEW;
        END $$ LANGUAGE plpgsql;
        CREATE TRIGGER accounts_version BEFORE UPDATE ON accounts
            FOR EACH ROW EXECUTE FUNCTION bump_account_version();
        CREATE OR REPLACE FUNCTION notify_wallet_change() RETURNS trigger AS $$
        BEGIN
            IF current_setting('application_name', true) IS DISTINCT FROM '\(engineApplicationName)'
               AND (TG_OP = 'INSERT' OR NEW.cash_cents IS DISTINCT FROM OLD.cash_cents) THEN
                PERFORM pg_notify('wallet_changed', NEW.user_id::TEXT || ':' || NEW.version::TEXT);
            END IF;
            RETURN NULL;
        END $$ LANGUAGE plpgsql;
        """)

    /// The engine shard each stock belongs to (ShardMap: shard k of N owns `shard % N = k`), set
    /// by createStock. Stocks from before sharding keep a round-robin spread (`id - 1`).
    static let stockShards = Migration(
        204, "engine shard of each stock",
        """
        ALTER TABLE stocks ADD COLUMN shard BIGINT NOT NULL DEFAULT 0 CHECK (shard >= 0);
        UPDATE stocks SET shard = id - 1;
        """)

    /// getStockTransactions lists oldest first by id (acceptance order, which an amend does not
    /// change), no longer by `seq` (the book's priority, which an amend can move).
    static let transactionsByUserAndId = Migration(
        205, "a user's stock transactions by id",
        """
        CREATE INDEX stock_transactions_user_id ON stock_transactions (user_id, id);
        DROP INDEX stock_transactions_user;
        """)

    /// What a parent's fills have traded so far (cents), so a parent that completes shows the
    /// average price of all its fills (BatchJournal.setOrderState). Open orders get theirs from
    /// their children; closed ones keep the price they have.
    static let filledCents = Migration(
        206, "stock transactions: cents filled so far",
        """
        ALTER TABLE stock_transactions ADD COLUMN filled_cents BIGINT NOT NULL DEFAULT 0;
        UPDATE stock_transactions p SET filled_cents = c.cents
        FROM (SELECT k.parent_id, sum(k.price_cents * k.quantity) AS cents
              FROM stock_transactions k JOIN stock_transactions o ON o.id = k.parent_id
              WHERE o.status IN ('IN_PROGRESS', 'PARTIALLY_COMPLETE') AND o.parent_id IS NULL
              GROUP BY k.parent_id) c
        WHERE p.id = c.parent_id;
        """)

    public static var allMigrations: [Migration] {
        LedgerSchema.migrations + migrations + [
            walletNotify, LedgerSchema.platformIncomingBackfill, accountVersions, stockShards,
            transactionsByUserAndId, filledCents,
        ]
    }
}
