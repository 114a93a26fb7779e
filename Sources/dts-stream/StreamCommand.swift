import ArgumentParser

/// dts-stream's command line (swift-argument-parser: --help, errors and exit status 64 on bad usage).
struct StreamCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dts-stream",
        abstract: "Many GET /engine/stream clients through nginx, trades at a steady rate, commit → client latency.",
        discussion: """
            Opens the SSE clients, places market buys of one share (each one trade event for every client) \
            and measures each trade from its commit (`commit_ms` in the event) to each client's socket, with \
            nginx's own round trip and the order's round trip measured in the same run as anchors.
            """)

    @Option(help: ArgumentHelp("Base URL (nginx).", valueName: "url"))
    var url = "http://127.0.0.1:80"

    @Option(help: "SSE connections to open (through nginx).")
    var clients = 1000

    @Option(help: "Users they belong to (default clients/10: the engine allows 16 streams per user).")
    var users: Int?

    @Option(help: "Market buys of one share, each one trade event for every client.")
    var trades = 300

    @Option(help: "Trades per second (one after another on one connection, paced).")
    var rate = 10.0

    func validate() throws {
        guard clients > 0, trades > 0, rate > 0 else {
            throw ValidationError("--clients, --trades and --rate must be positive")
        }
        if let users, users <= 0 { throw ValidationError("--users must be positive") }
    }
}
