import ArgumentParser
import ServiceCore

/// dts-replay's command line (swift-argument-parser): `dts-replay [run] FILE [options]` replays,
/// `dts-replay gen …` writes a synthetic workload. Bad usage exits 64 with the error and help.
struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dts-replay",
        abstract: "Replays classic workloads through nginx, or generates one.",
        subcommands: [Run.self, Gen.self],
        defaultSubcommand: Run.self)

    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Replays a workload: one ordered stream per user, users in parallel, whole-system DUMPLOG last (as admin).",
            discussion: """
                Requests straight to a service (--dump-url, --stats-url, --quote-url) are signed with env \
                DT_INTERNAL_KEY, else $STATE_DIR/internal-key. Exit status: 0 = no transport errors, \
                1 = transport errors.
                """)

        @Argument(help: ArgumentHelp("A workload file, a folder of them, or a .tar.gz.", valueName: "workload"))
        var workload: String

        @Option(help: ArgumentHelp("Base URL of nginx.", valueName: "url"))
        var url = "http://localhost:80"

        @Option(help: "User streams at once.")
        var concurrency = 100

        @Option(help: "User passwords are derived from userid + this salt.")
        var passwordSalt = "dts-replay"

        @Option(help: ArgumentHelp("The admin's user name.", valueName: "name"))
        var adminUser = "admin"

        @Option(
            help: ArgumentHelp("Else env DT_ADMIN_PASSWORD, else $STATE_DIR/admin-password.", valueName: "password"))
        var adminPassword: String?

        @Option(help: ArgumentHelp("Where DUMPLOG files are written.", valueName: "dir"))
        var out = "."

        @Option(help: ArgumentHelp("user-utilities base URL for GET /classic-stats; 'none' = off.", valueName: "url"))
        var statsUrl = "http://127.0.0.1:8400"

        @Option(help: ArgumentHelp("quote-server base URL for GET /stats; 'none' = off.", valueName: "url"))
        var quoteUrl = "http://127.0.0.1:8500"

        @Option(help: ArgumentHelp("Per-request timeout in ms (at least 100).", valueName: "ms"))
        var timeout = 60_000

        @Option(
            name: .customLong("remap-users"),
            help: ArgumentHelp(
                "Replace every userid by a 10-character id derived from this salt (fresh users per run).",
                valueName: "salt"))
        var remapSalt: String?

        @Option(help: ArgumentHelp("Also write the summary as JSON.", valueName: "file"))
        var summaryJson: String?

        @Option(
            help: ArgumentHelp(
                "Also write an HTML report (throughput, latency percentiles, errors over time, per command).",
                valueName: "file.html"))
        var report: String?

        @Flag(
            inversion: .prefixedNo,
            help: "Force the live progress bar on or off (default: on when stderr is a terminal).")
        var progress: Bool?

        @Option(help: "Stop after this many transport errors.")
        var abortAfter = 1000

        @Flag(help: "Parse and group the workload, print its shape, send nothing.")
        var dryRun = false

        @Option(
            help: ArgumentHelp(
                """
                Send the whole-system DUMPLOG straight to this service (user-utilities), with the identity headers \
                the gateway would add for the admin: for dumps larger than the gateway's proxy buffers.
                """, valueName: "url"))
        var dumpUrl: String?

        func validate() throws {
            _ = try urls()
            guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
            guard timeout >= 100 else { throw ValidationError("--timeout must be at least 100 ms") }
            guard abortAfter >= 1 else { throw ValidationError("--abort-after must be at least 1") }
        }

        /// --url, --stats-url, --quote-url, --dump-url; the last three may be 'none'.
        private func urls() throws -> (url: BaseURL, stats: BaseURL?, quote: BaseURL?, dump: BaseURL?) {
            func parse(_ flag: String, _ text: String?, optional: Bool) throws -> BaseURL? {
                guard let text else { return nil }
                if optional && (text == "none" || text.isEmpty) { return nil }
                guard let u = BaseURL(text) else { throw ValidationError("\(flag): not an http:// URL: \(text)") }
                return u
            }
            guard let base = try parse("--url", url, optional: false) else { throw ValidationError("--url is empty") }
            return (
                base, try parse("--stats-url", statsUrl, optional: true),
                try parse("--quote-url", quoteUrl, optional: true),
                try parse("--dump-url", dumpUrl, optional: true)
            )
        }

        func options(environment: [String: String]) throws -> ReplayOptions {
            let u = try urls()
            var o = ReplayOptions()
            o.workloadPath = workload
            o.url = u.url
            o.concurrency = concurrency
            o.passwordSalt = passwordSalt
            o.adminUser = adminUser
            o.adminPassword = adminPassword
            o.outDir = out
            o.statsURL = u.stats
            o.quoteURL = u.quote
            o.timeoutMillis = timeout
            o.remapSalt = remapSalt
            o.summaryJSONPath = summaryJson
            o.reportPath = report
            o.progress = progress
            o.abortAfter = abortAfter
            o.dryRun = dryRun
            o.dumpURL = u.dump
            o.resolveSecrets(environment)
            return o
        }
    }

    struct Gen: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Writes a synthetic workload in the official `[n] CMD,args` format (deterministic for a seed).")

        @Option(help: "Users (at least 1).")
        var users = 10

        @Option(help: "Commands in all (at least users + 1: an ADD each, plus the DUMPLOG).")
        var commands = 1000

        @Option(help: "Random seed.")
        var seed: UInt64 = 1

        @Option(help: "Distinct stock symbols (default: the generator's).")
        var symbols: Int?

        @Option(help: ArgumentHelp("Output file; - = stdout.", valueName: "file"))
        var out = "-"

        func validate() throws {
            guard users >= 1, commands >= users + 1 else {
                throw ValidationError("need --users ≥ 1 and --commands ≥ users + 1 (an ADD each, plus the DUMPLOG)")
            }
            if let symbols, symbols < 0 { throw ValidationError("--symbols must not be negative") }
        }

        var generator: WorkloadGenerator {
            WorkloadGenerator(users: users, commands: commands, seed: seed, symbols: symbols)
        }
    }
}
