import ArgumentParser

/// dts-load's command line (swift-argument-parser: --help, errors and exit status 64 on bad usage).
struct LoadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dts-load",
        abstract: "Plays the TestRun3 (v3) JMeter plan against the stack.",
        discussion: """
            InitialSetup once, then one virtual user per CSV row (header skipped) running UserThreadTest's \
            ten steps with its pauses and assertions, over keep-alive connections on an epoll event loop. \
            Prints a JMeter-dashboard-like table. Exit status 0 when every sample passed, 1 otherwise.
            """)

    @Option(help: ArgumentHelp("UserCreds_N.csv: username,password,name per row.", valueName: "file"))
    var usersFile: String

    @Option(help: ArgumentHelp("Base URL.", valueName: "url"))
    var url = "http://localhost:80"

    @Option(help: "Only the first N rows (default: all).")
    var users: Int?

    @Option(name: .customLong("ramp-up"), help: ArgumentHelp("Seconds over which the users start.", valueName: "s"))
    var rampUp = 45.0

    @Option(help: "Multiply the plan's pauses (500 ms, 5000 ms before step 20); 0 = none.")
    var pauseScale = 1.0

    @Option(name: .customLong("timeout-ms"), help: "Per-request timeout in ms (TestRun3 v2's).")
    var timeoutMs = 80_000

    @Option(help: "Event-loop threads.")
    var threads = 1

    @Flag(help: "Do not run InitialSetup; needs --google-id/--apple-id or --stock-ids-file.")
    var skipSetup = false

    @Option(help: ArgumentHelp("Google's stock id (with --skip-setup).", valueName: "id"))
    var googleId: String?

    @Option(help: ArgumentHelp("Apple's stock id (with --skip-setup).", valueName: "id"))
    var appleId: String?

    @Option(
        help: ArgumentHelp(
            "Written after InitialSetup (googleStockId,appleStockId header + ids), read with --skip-setup.",
            valueName: "file"))
    var stockIdsFile: String?

    @Option(help: "Seconds between progress lines on stderr; 0 = off.")
    var progress = 5.0

    @Option(
        help: ArgumentHelp(
            "Also write an HTML report (throughput, latency percentiles and errors over time).", valueName: "file.html")
    )
    var report: String?

    @Option(
        name: .customLong("source-addresses"),
        help: ArgumentHelp(
            "Comma-separated local IPv4 addresses to connect from, taken by the users in turn, so nginx's ip_hash "
                + "spreads them over the gateways. ip_hash keys on an address's first three octets: on loopback "
                + "use e.g. 127.0.1.1,127.0.2.1,127.0.3.1 (not 127.0.0.2, 127.0.0.3).",
            valueName: "list"))
    var sourceAddresses: String?

    func validate() throws {
        if let sourceAddresses {
            guard let parsed = LoadOptions.parseSources(sourceAddresses) else {
                throw ValidationError("bad --source-addresses \(sourceAddresses) (IPv4 addresses, comma-separated)")
            }
            _ = parsed
        }
        guard LoadOptions.parseURL(url) != nil else { throw ValidationError("bad --url \(url) (http://host:port)") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        guard rampUp >= 0, pauseScale >= 0, progress >= 0 else {
            throw ValidationError("--ramp-up, --pause-scale and --progress must not be negative")
        }
        guard timeoutMs > 0 else { throw ValidationError("--timeout-ms must be positive") }
        if let users, users < 0 { throw ValidationError("--users must not be negative") }
    }

    var options: LoadOptions {
        var o = LoadOptions()
        if let (host, port) = LoadOptions.parseURL(url) { (o.host, o.port) = (host, port) }
        o.usersFile = usersFile
        o.users = users
        o.rampUpSeconds = rampUp
        o.pauseScale = pauseScale
        o.timeoutMillis = timeoutMs
        o.threads = threads
        o.skipSetup = skipSetup
        o.googleId = googleId
        o.appleId = appleId
        o.stockIdsFile = stockIdsFile
        o.progressSeconds = progress
        o.reportPath = report
        o.sourceAddresses = sourceAddresses.flatMap(LoadOptions.parseSources) ?? []
        return o
    }
}
