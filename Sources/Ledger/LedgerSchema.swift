import ServiceCore

/// The tables both APIs share. Cash is integer cents; shares are whole units (Int64).
///
/// Every escrow lives in the ledger itself (`accounts.reserved_cents`, `holdings.reserved`), and
/// every move across the system's edge (a deposit, a classic buy from or sell to the market,
/// shares granted by setup) is journaled in `external_flows` in the same transaction. So the
/// conservation invariant is checkable at any moment:
///   sum(cash + reserved) = sum(flows.cents)  and, per stock, sum(quantity + reserved) = sum(flows.shares).
public enum LedgerSchema {
    public static let migrations: [Migration] = [
        Migration(
            1, "core ledger",
            """
            CREATE TABLE users (
                id            BIGSERIAL PRIMARY KEY,
                user_name     TEXT NOT NULL UNIQUE,
                name          TEXT NOT NULL DEFAULT '',
                password_hash TEXT NOT NULL,
                role          TEXT NOT NULL DEFAULT 'user',
                created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
            );
            -- An account exists once money first arrives (classic ADD or a platform deposit).
            CREATE TABLE accounts (
                user_id        BIGINT PRIMARY KEY REFERENCES users(id),
                cash_cents     BIGINT NOT NULL DEFAULT 0 CHECK (cash_cents >= 0),
                reserved_cents BIGINT NOT NULL DEFAULT 0 CHECK (reserved_cents >= 0),
                created_at     TIMESTAMPTZ NOT NULL DEFAULT now()
            );
            CREATE TABLE stocks (
                id         BIGSERIAL PRIMARY KEY,
                name       TEXT NOT NULL UNIQUE,
                created_at TIMESTAMPTZ NOT NULL DEFAULT now()
            );
            -- quantity: free shares; reserved: escrowed by pending sells, sell triggers, resting orders.
            CREATE TABLE holdings (
                user_id  BIGINT NOT NULL REFERENCES users(id),
                stock_id BIGINT NOT NULL REFERENCES stocks(id),
                quantity BIGINT NOT NULL DEFAULT 0 CHECK (quantity >= 0),
                reserved BIGINT NOT NULL DEFAULT 0 CHECK (reserved >= 0),
                seq      BIGSERIAL,
                PRIMARY KEY (user_id, stock_id)
            );
            CREATE TABLE external_flows (
                id       BIGSERIAL PRIMARY KEY,
                user_id  BIGINT NOT NULL REFERENCES users(id),
                kind     TEXT NOT NULL,
                cents    BIGINT NOT NULL DEFAULT 0,
                stock_id BIGINT REFERENCES stocks(id),
                shares   BIGINT NOT NULL DEFAULT 0,
                at       TIMESTAMPTZ NOT NULL DEFAULT now()
            );
            CREATE INDEX external_flows_stock ON external_flows (stock_id);
            """),
        Migration(
            2, "headroom for incoming proceeds and shares; balance bounds",
            """
            -- incoming: what resting orders may still bring in (a sell's proceeds, a buy's shares).
            -- Reserving it when an order is accepted keeps every later credit inside the bounds, so a
            -- fill can never push a balance past them (LedgerBounds).
            ALTER TABLE accounts ADD COLUMN incoming_cents BIGINT NOT NULL DEFAULT 0 CHECK (incoming_cents >= 0);
            ALTER TABLE holdings ADD COLUMN incoming BIGINT NOT NULL DEFAULT 0 CHECK (incoming >= 0);
            -- Backstops only (NOT VALID: rows from before the bounds are not re-checked until written);
            -- the services check first and answer 400.
            ALTER TABLE accounts ADD CONSTRAINT accounts_within_bound
                CHECK (cash_cents + reserved_cents + incoming_cents <= \(LedgerBounds.maxBalanceCents)) NOT VALID;
            ALTER TABLE holdings ADD CONSTRAINT holdings_within_bound
                CHECK (quantity + reserved + incoming <= \(LedgerBounds.maxHoldingShares)) NOT VALID;
            """),
        Migration(
            3, "idempotency keys",
            """
            -- The stored outcome of a request sent with an Idempotency-Key (see Idempotency).
            CREATE TABLE idempotency_keys (
                user_id     BIGINT NOT NULL REFERENCES users(id),
                key         TEXT NOT NULL,
                fingerprint TEXT NOT NULL,
                status      INT NOT NULL,
                body        TEXT NOT NULL,
                created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
                PRIMARY KEY (user_id, key)
            );
            CREATE INDEX idempotency_keys_age ON idempotency_keys (created_at);
            """),
        functions,
    ]

    /// (Platform) resting orders accepted before the headroom columns existed get their incoming reserved.
    public static let platformIncomingBackfill = Migration(
        202, "headroom of orders resting before migration 2",
        """
        INSERT INTO accounts (user_id, incoming_cents)
            SELECT user_id, SUM(remaining * price_cents) FROM stock_transactions
            WHERE parent_id IS NULL AND NOT is_buy AND status IN ('IN_PROGRESS', 'PARTIALLY_COMPLETE') AND remaining > 0
            GROUP BY user_id
        ON CONFLICT (user_id) DO UPDATE SET incoming_cents = EXCLUDED.incoming_cents;
        INSERT INTO holdings (user_id, stock_id, incoming)
            SELECT user_id, stock_id, SUM(remaining) FROM stock_transactions
            WHERE parent_id IS NULL AND is_buy AND status IN ('IN_PROGRESS', 'PARTIALLY_COMPLETE') AND remaining > 0
            GROUP BY user_id, stock_id
        ON CONFLICT (user_id, stock_id) DO UPDATE SET incoming = EXCLUDED.incoming;
        """)
}

/// The documented bounds of the ledger. Every balance (free + reserved + incoming) stays within
/// them, so every sum the services and the database compute fits in Int64 with room to spare;
/// a request that would pass one is refused with 400 and changes nothing.
public enum LedgerBounds {
    /// Cents one account may hold in all: 1e17 (1e15 currency units).
    public static let maxBalanceCents: Int64 = 100_000_000_000_000_000
    /// Shares of one stock one user may hold in all: 1e15.
    public static let maxHoldingShares: Int64 = 1_000_000_000_000_000
}

/// Small shared ledger operations. Each takes the caller's open transaction.
public enum LedgerOps {
    /// Id of a user by login name.
    public static func userId(_ db: PGConnection, name: String) throws -> Int64? {
        try db.query("SELECT id FROM users WHERE user_name = $1", [name]).int64(0, 0)
    }

    /// Records a move across the system's edge (positive = into the system).
    public static func recordFlow(
        _ db: PGConnection, userId: Int64, kind: String, cents: Int64 = 0,
        stockId: Int64? = nil, shares: Int64 = 0
    ) throws {
        try db.query(
            "INSERT INTO external_flows (user_id, kind, cents, stock_id, shares) VALUES ($1, $2, $3, $4, $5)",
            [userId, kind, cents, stockId, shares])
    }

    /// Adds money from outside (deposit / classic ADD), creating the account if needed.
    /// Returns the new free cash, or nil (and changes nothing) when the balance would pass its bound.
    public static func deposit(_ db: PGConnection, userId: Int64, cents: Int64, kind: String = "deposit") throws
        -> Int64?
    {
        // The bounded credit and its flow row in one statement (one round trip): the flow is
        // inserted only when the credit happened (a refused credit returns no row).
        guard cents >= 0, cents <= LedgerBounds.maxBalanceCents else { return nil }
        return try db.query(
            """
            WITH c AS (
                INSERT INTO accounts (user_id, cash_cents) VALUES ($1, $2)
                ON CONFLICT (user_id) DO UPDATE SET cash_cents = accounts.cash_cents + EXCLUDED.cash_cents
                WHERE accounts.cash_cents + accounts.reserved_cents + accounts.incoming_cents <= $3 - EXCLUDED.cash_cents
                RETURNING cash_cents),
            f AS (INSERT INTO external_flows (user_id, kind, cents, stock_id, shares) SELECT $1, $4, $2, NULL, 0 FROM c)
            SELECT cash_cents FROM c
            """, [userId, cents, LedgerBounds.maxBalanceCents, kind]
        ).int64(0, 0)
    }

    /// Stock id by name, creating the stock when `create` is set (classic symbols appear on first use).
    public static func stockId(_ db: PGConnection, name: String, create: Bool) throws -> Int64? {
        if let id = try db.query("SELECT id FROM stocks WHERE name = $1", [name]).int64(0, 0) { return id }
        guard create else { return nil }
        let r = try db.query("INSERT INTO stocks (name) VALUES ($1) ON CONFLICT (name) DO NOTHING RETURNING id", [name])
        if let id = r.int64(0, 0) { return id }
        return try db.query("SELECT id FROM stocks WHERE name = $1", [name]).int64(0, 0)
    }

    /// Conservation check over the whole ledger; returns human-readable violations (empty = sound).
    public static func conservationViolations(_ db: PGConnection) throws -> [String] {
        var problems: [String] = []
        let cash = try db.query(
            """
            SELECT (SELECT COALESCE(SUM(cash_cents + reserved_cents), 0) FROM accounts)::TEXT,
                   (SELECT COALESCE(SUM(cents), 0) FROM external_flows)::TEXT
            """)
        if cash.string(0, 0) != cash.string(0, 1) {
            problems.append(
                "cash: accounts hold \(cash.string(0, 0) ?? "?") cents but flows sum to \(cash.string(0, 1) ?? "?")")
        }
        let shares = try db.query(
            """
            SELECT s.id,
                   COALESCE((SELECT SUM(quantity + reserved) FROM holdings h WHERE h.stock_id = s.id), 0)::TEXT,
                   COALESCE((SELECT SUM(shares) FROM external_flows f WHERE f.stock_id = s.id), 0)::TEXT
            FROM stocks s
            """)
        for row in 0..<shares.count where shares.string(row, 1) != shares.string(row, 2) {
            problems.append(
                "stock \(shares.string(row, 0) ?? "?"): holdings \(shares.string(row, 1) ?? "?") but flows \(shares.string(row, 2) ?? "?")"
            )
        }
        return problems
    }
}
