import ArgumentParser

/// auth's command line: the service takes its settings from DT_* variables (see main.swift);
/// flags only pick a one-off mode.
struct AuthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "auth",
        abstract: "The authentication service (register, login, JWTs); settings come from DT_* variables.")

    @Flag(help: "Time PBKDF2 hashing instead of serving: one thread, then all cores.")
    var benchHash = false

    @Argument(help: "Iteration counts for --bench-hash (default: DT_PBKDF2_ITERATIONS, else the service default).")
    var iterations: [Int] = []

    func validate() throws {
        guard benchHash || iterations.isEmpty else { throw ValidationError("iteration counts go with --bench-hash") }
        guard iterations.allSatisfy({ $0 >= 1 }) else { throw ValidationError("iteration counts must be at least 1") }
    }
}
