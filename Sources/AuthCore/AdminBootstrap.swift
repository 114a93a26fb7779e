import ServiceCore

/// Makes sure the `admin` user exists with role admin and the password from DT_ADMIN_PASSWORD.
/// The environment is the source of truth: a stored hash that does not match is replaced.
enum AdminBootstrap {
    static let userName = "admin"

    static func ensure(_ db: PGConnection, password: String, hasher: PasswordHasher, logger: Logger) throws {
        let inserted = try db.query(
            """
            INSERT INTO users (user_name, name, password_hash, role) VALUES ($1, 'Administrator', $2, 'admin')
            ON CONFLICT (user_name) DO NOTHING RETURNING id
            """, [userName, hasher.hash(password)])
        if inserted.count == 1 {
            logger.info("created admin user")
            return
        }
        let row = try db.query("SELECT id, password_hash, role FROM users WHERE user_name = $1", [userName])
        guard let id = row.int64(0, 0), let stored = row.string(0, 1) else { return }
        var matches = false
        if case .match = hasher.verify(password, stored: stored) { matches = true }
        if !matches || row.string(0, 2) != "admin" {
            try db.query(
                "UPDATE users SET password_hash = $1, role = 'admin' WHERE id = $2", [hasher.hash(password), id])
            logger.warning("admin user updated to match DT_ADMIN_PASSWORD and role admin")
        }
    }
}
