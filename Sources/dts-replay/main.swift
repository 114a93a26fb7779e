import ArgumentParser
import Foundation
import LoadReport
import ServiceCore

// dts-replay: replays classic workloads through nginx (`dts-replay --help`, ReplayCommand), or
// generates one (`dts-replay gen`). Exit status: 0 = no transport errors, 1 = transport errors,
// 64 = usage (swift-argument-parser's), 2 = the workload cannot be read.
signal(SIGPIPE, SIG_IGN)

func fail(_ message: String, status: Int32) -> Never {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(status)
}

let run: ReplayCommand.Run
do {
    switch try ReplayCommand.parseAsRoot() {
    case let command as ReplayCommand.Run:
        run = command
    case let gen as ReplayCommand.Gen:
        let generator = gen.generator
        let text = generator.text()
        if gen.out == "-" {
            FileHandle.standardOutput.write(Data(text.utf8))
        } else {
            try Data(text.utf8).write(to: URL(fileURLWithPath: gen.out))
            FileHandle.standardError.write(
                Data("wrote \(generator.commands) commands for \(generator.users) users to \(gen.out)\n".utf8))
        }
        exit(0)
    default:
        ReplayCommand.exit(withError: CleanExit.helpRequest(ReplayCommand.self))
    }
} catch {
    ReplayCommand.exit(withError: error)
}

let options: ReplayOptions
var workload: Workload
do {
    options = try run.options(environment: ProcessInfo.processInfo.environment)
    workload = try Workload.load(path: options.workloadPath)
} catch {
    fail("\(error)", status: 2)
}
if let salt = options.remapSalt { workload.remapUsers(salt: salt) }

if options.dryRun {
    var byName: [String: Int] = [:]
    for s in workload.streams { for c in s.commands { byName[c.name, default: 0] += 1 } }
    for c in workload.finalDumps { byName[c.name, default: 0] += 1 }
    print(
        "\(workload.commandCount) commands, \(workload.streams.count) users, \(workload.finalDumps.count) whole-system DUMPLOG(s)"
    )
    for (name, n) in byName.sorted(by: { $0.value > $1.value }) { print("  \(name) \(n)") }
    exit(0)
}

let quoteBefore = ExternalStats.quoteHits(options.quoteURL, signer: options.internalProof)
let cacheBefore = ExternalStats.cacheCounts(options.statsURL, signer: options.internalProof)
FileHandle.standardError.write(
    Data(
        "dts-replay: \(workload.commandCount) commands, \(workload.streams.count) users → \(options.url) (concurrency \(min(options.concurrency, max(1, workload.streams.count))))\n"
            .utf8))

let runner = ReplayRunner(options: options, workload: workload)
let showBar = options.progress ?? (isatty(2) == 1)
let progress = Progress(total: workload.commandCount, live: runner.live, tty: showBar)
progress.start()
let result = runner.run()
progress.stop()

let quoteAfter = ExternalStats.quoteHits(options.quoteURL, signer: options.internalProof)
let cacheAfter = ExternalStats.cacheCounts(options.statsURL, signer: options.internalProof)
var quoteHits: Int? = nil
if let b = quoteBefore, let a = quoteAfter { quoteHits = a - b }
var cache: (hits: Int, misses: Int)? = nil
if let b = cacheBefore, let a = cacheAfter { cache = (a.hits - b.hits, a.misses - b.misses) }

let summary = Summary(result: result, users: workload.streams.count, quoteHits: quoteHits, cache: cache)
print(summary.text(), terminator: "")
if let path = options.summaryJSONPath {
    do { try Data(summary.json().serializedBytes()).write(to: URL(fileURLWithPath: path)) } catch {
        FileHandle.standardError.write(Data("cannot write \(path): \(error)\n".utf8))
    }
}
if let path = options.reportPath {
    let html = HTMLReport.render(
        title: "dts-replay: \(options.workloadPath)",
        facts: [
            ("command", HTMLReport.commandLine()), ("target", options.url.description),
            ("users", String(workload.streams.count)), ("commands", String(summary.commands)),
            ("concurrency", String(options.concurrency)), ("duration", String(format: "%.1f s", result.seconds)),
            ("rate", String(format: "%.1f commands/s", summary.rate)),
            ("transport errors", String(summary.transportErrors)), ("command errors", String(summary.commandErrors)),
            ("finished", ISO8601DateFormatter().string(from: Date())),
        ], recorder: result.tally.recorder)
    do { try html.write(toFile: path, atomically: true, encoding: .utf8) } catch {
        FileHandle.standardError.write(Data("cannot write \(path): \(error)\n".utf8))
    }
}
exit(summary.transportErrors == 0 ? 0 : 1)
