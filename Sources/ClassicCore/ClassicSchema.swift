import Ledger
import ServiceCore

/// Tables of the classic command set (versions 100–199). Money lives in the shared ledger
/// (`accounts`, `holdings`); these tables only say *why* money is held (a pending BUY/SELL, a
/// trigger) and keep the audit log that DUMPLOG prints.
public enum ClassicSchema {
    public static let migrations: [Migration] = [
        Migration(
            100, "classic pending orders, triggers, audit log",
            """
            -- transactionNum for commands whose client sends none (the workload's [N] otherwise).
            CREATE SEQUENCE classic_txn_seq START 1;

            -- Pending BUY/SELL awaiting COMMIT/CANCEL: a per-user stack per side, newest = highest id.
            -- BUY holds held_cents (= shares x price) in accounts.reserved_cents; SELL holds `shares`
            -- in holdings.reserved and keeps held_cents = their value at the quoted price (for logs).
            CREATE TABLE classic_pending (
                id          BIGSERIAL PRIMARY KEY,
                user_id     BIGINT NOT NULL REFERENCES users(id),
                username    TEXT NOT NULL,
                side        CHAR(1) NOT NULL CHECK (side IN ('B', 'S')),
                stock_id    BIGINT NOT NULL REFERENCES stocks(id),
                symbol      TEXT NOT NULL,
                price_cents BIGINT NOT NULL CHECK (price_cents > 0),
                shares      BIGINT NOT NULL CHECK (shares > 0),
                held_cents  BIGINT NOT NULL CHECK (held_cents >= 0),
                created_ms  BIGINT NOT NULL,
                expires_ms  BIGINT NOT NULL,
                txn         BIGINT NOT NULL
            );
            CREATE INDEX classic_pending_user ON classic_pending (user_id, side, id);
            CREATE INDEX classic_pending_expiry ON classic_pending (expires_ms);

            -- At most one buy and one sell trigger per (user, stock). Buy: reserved_cents = amount,
            -- held in accounts.reserved_cents from SET_BUY_AMOUNT. Sell: reserved_shares held in
            -- holdings.reserved from SET_SELL_TRIGGER. trigger_cents NULL = not armed yet.
            CREATE TABLE classic_triggers (
                user_id         BIGINT NOT NULL REFERENCES users(id),
                side            CHAR(1) NOT NULL CHECK (side IN ('B', 'S')),
                stock_id        BIGINT NOT NULL REFERENCES stocks(id),
                username        TEXT NOT NULL,
                symbol          TEXT NOT NULL,
                amount_cents    BIGINT NOT NULL CHECK (amount_cents > 0),
                reserved_cents  BIGINT NOT NULL DEFAULT 0 CHECK (reserved_cents >= 0),
                reserved_shares BIGINT NOT NULL DEFAULT 0 CHECK (reserved_shares >= 0),
                trigger_cents   BIGINT CHECK (trigger_cents > 0),
                armed_txn       BIGINT,
                PRIMARY KEY (user_id, side, stock_id)
            );
            CREATE INDEX classic_triggers_armed ON classic_triggers (symbol) WHERE trigger_cents IS NOT NULL;

            -- The audit log: one row per XML entry (kind = element name). Dollar values in cents.
            CREATE TABLE classic_log (
                id          BIGSERIAL PRIMARY KEY,
                kind        TEXT NOT NULL,
                ts_ms       BIGINT NOT NULL,
                server      TEXT NOT NULL,
                txn         BIGINT NOT NULL CHECK (txn >= 1),
                command     TEXT,
                username    TEXT,
                stock       TEXT,
                filename    TEXT,
                funds_cents BIGINT,
                action      TEXT,
                price_cents BIGINT,
                quote_time  BIGINT,
                cryptokey   TEXT,
                message     TEXT
            );
            CREATE INDEX classic_log_user ON classic_log (username, id);
            """),
        Migration(
            101, "owners of client-chosen transaction numbers; server numbers above them",
            """
            CREATE TABLE classic_txn_owners (
                txn     BIGINT PRIMARY KEY CHECK (txn >= 1),
                user_id BIGINT NOT NULL REFERENCES users(id)
            );
            -- Numbers already logged keep their first user, so old dumps read the same.
            INSERT INTO classic_txn_owners (txn, user_id)
                SELECT DISTINCT ON (l.txn) l.txn, u.id FROM classic_log l JOIN users u ON u.user_name = l.username
                WHERE l.kind = 'userCommand' AND l.txn <= 999999999999 ORDER BY l.txn, l.id;
            SELECT setval('classic_txn_seq', GREATEST((SELECT last_value FROM classic_txn_seq), 1000000000000));
            """),
        functions,
        triggerFunctions,
        utilityFunctions,
        sellOwnershipUnderLock,
        pendingDueOnOneIndex,
        Migration(
            107, "client transaction numbers are labels, not claims",
            // Two workloads replayed on one ledger both number their lines from [1]: a number
            // owned by its first user refused the second workload command by command.
            "DROP TABLE classic_txn_owners;"),
    ]

    /// The lazy-expiry check on one index (`pendingDue`): the index, then every function that
    /// embeds `lockAccount` made again from its current text (the SELL of 105 last, as 102's
    /// older one is among them).
    static let pendingDueOnOneIndex = Migration(
        106, "classic lazy-expiry check on the (user_id, expires_ms) index",
        "CREATE INDEX classic_pending_user_expiry ON classic_pending (user_id, expires_ms);\n"
            + [functions, triggerFunctions, utilityFunctions].map {
                $0.sql.replacing("CREATE FUNCTION", with: "CREATE OR REPLACE FUNCTION")
            }.joined(separator: "\n") + "\n" + sellFunction)

    /// Everything a classic service applies at start-up: the shared ledger, then these tables.
    public static var allMigrations: [Migration] { LedgerSchema.migrations + migrations }
}
