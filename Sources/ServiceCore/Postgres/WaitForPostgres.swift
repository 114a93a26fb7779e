import Glibc

extension PGConnection {
    /// The one "wait for PostgreSQL" loop of every service's start-up: runs `body` until it
    /// succeeds, every 100 ms — short, so a service restarted together with the database serves
    /// as soon as it accepts connections — for up to `seconds`, then throws the last error.
    /// Logs the first failure and then one every 2 s.
    public static func retryUntilReady<T>(
        logger: Logger, seconds: Double = 60, _ what: String = "waiting for PostgreSQL",
        _ body: () throws -> T
    ) throws -> T {
        let deadline = Clock.monotonicNanos() + UInt64(seconds * 1e9)
        var attempt = 0
        while true {
            do {
                return try body()
            } catch {
                if Clock.monotonicNanos() > deadline { throw error }
                if attempt % 20 == 0 { logger.warning("\(what)", error: error) }
                attempt += 1
                usleep(100_000)
            }
        }
    }

    /// `retryUntilReady` with a fresh connection per attempt (migrations, bootstrap).
    public static func whenReady<T>(
        _ connInfo: String, logger: Logger, seconds: Double = 60,
        _ body: (PGConnection) throws -> T
    ) throws -> T {
        try retryUntilReady(logger: logger, seconds: seconds) { try body(try PGConnection(connInfo)) }
    }
}
