import ArgumentParser
import Foundation
import LoadReport
import ServiceCore

// dts-load: the TestRun3 load plan without JMeter. See LoadCommand (`dts-load --help`).

let options = LoadCommand.parseOrExit().options

/// IPv4 address of the target (a literal, or the first A record).
func resolve(_ host: String, _ port: Int) -> sockaddr_in? {
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = in_port_t(UInt16(port).bigEndian)
    if inet_pton(AF_INET, host, &addr.sin_addr) == 1 { return addr }
    var hints = addrinfo()
    hints.ai_family = AF_INET
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    var res: UnsafeMutablePointer<addrinfo>?
    guard getaddrinfo(host, nil, &hints, &res) == 0, let first = res, let sa = first.pointee.ai_addr else { return nil }
    defer { freeaddrinfo(res) }
    addr.sin_addr = sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
    return addr
}

func raiseFileLimit() {
    var lim = rlimit()
    getrlimit(Int32(RLIMIT_NOFILE.rawValue), &lim)
    lim.rlim_cur = lim.rlim_max
    setrlimit(Int32(RLIMIT_NOFILE.rawValue), &lim)
}

func log(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }

guard let address = resolve(options.host, options.port) else {
    log("dts-load: cannot resolve \(options.host)")
    exit(2)
}
raiseFileLimit()

/// Runs users through steps on `threads` loops, printing progress; returns merged stats.
func runPhase(_ name: String, steps: [Step], states: [UserState], rampSeconds: Double, threads: Int) -> (
    Recorder, Double
) {
    let progress = LoadProgress()
    let t0 = Clock.monotonicNanos() + 10_000_000
    let loops = (0..<max(1, min(threads, states.count))).map { _ in
        LoadLoop(
            steps: steps, host: options.host, port: options.port, address: address, sources: options.sourceAddresses,
            pauseScale: options.pauseScale,
            timeoutMillis: options.timeoutMillis, progress: progress, originNanos: t0)
    }
    let n = states.count
    for (i, s) in states.enumerated() {
        let loop = loops[i % loops.count]
        // JMeter starts thread i at ramp_time × i / num_threads.
        let offset = n > 1 ? UInt64(rampSeconds * 1e9 * Double(i) / Double(n)) : 0
        loop.add(VirtualUser(index: Int32(loop.users.count), state: s, startAtNanos: t0 + offset))
    }
    let group = DispatchGroup()
    for loop in loops {
        group.enter()
        let t = Thread {
            loop.run()
            group.leave()
        }
        t.stackSize = 8 << 20
        t.start()
    }
    let started = Date()
    while group.wait(timeout: .now() + (options.progressSeconds > 0 ? options.progressSeconds : 3600)) == .timedOut {
        if options.progressSeconds > 0 {
            log(
                String(
                    format: "[%@ %6.1fs] users started %d, done %d/%d; samples %d, errors %d", name,
                    Date().timeIntervalSince(started), progress.usersStarted.load(ordering: .relaxed),
                    progress.usersDone.load(ordering: .relaxed), n, progress.samples.load(ordering: .relaxed),
                    progress.errors.load(ordering: .relaxed)))
        }
    }
    var stats = Recorder(originNanos: t0, labels: steps.map(\.label))
    for loop in loops { stats.merge(loop.stats) }
    return (stats, Date().timeIntervalSince(started))
}

// --- InitialSetup ------------------------------------------------------------------------------
var googleId = options.googleId ?? ""
var appleId = options.appleId ?? ""
if options.skipSetup {
    if googleId.isEmpty || appleId.isEmpty, let file = options.stockIdsFile,
        let text = try? String(contentsOfFile: file, encoding: .utf8)
    {
        // googleStockId,appleStockId header, then the ids (what InitialSetup.jmx writes).
        let rows = text.split(whereSeparator: \.isNewline).filter { !$0.hasPrefix("googleStockId") }
        let ids = rows.first?.split(separator: ",").map(String.init) ?? []
        if ids.count == 2 {
            googleId = ids[0]
            appleId = ids[1]
        }
    }
    guard !googleId.isEmpty, !appleId.isEmpty else {
        log("dts-load: --skip-setup needs --google-id and --apple-id (or a --stock-ids-file)")
        exit(2)
    }
} else {
    print("InitialSetup.jmx against http://\(options.host):\(options.port)")
    let company = UserState(
        creds: UserCreds(username: "VanguardETF", password: "Vang@123", name: "Vanguard Corp."),
        googleId: "", appleId: "")
    let (stats, _) = runPhase("setup", steps: Plan.initialSetup, states: [company], rampSeconds: 0, threads: 1)
    print(SummaryTable.text(stats))
    print(
        "(JMeter counts steps 2 and 3 as errors by design: they answer 400 and the plan has no code assertion; 2/13 = 15.38 % here)\n"
    )
    googleId = company.googleId
    appleId = company.appleId
    guard !googleId.isEmpty, !appleId.isEmpty else {
        log("dts-load: InitialSetup did not yield both stock ids (is the database fresh?)")
        exit(2)
    }
    if let file = options.stockIdsFile {
        try? "googleStockId,appleStockId\n\(googleId),\(appleId)".write(toFile: file, atomically: true, encoding: .utf8)
    }
}

// --- UserThreadTest ------------------------------------------------------------------------------
let creds: [UserCreds]
do { creds = try UserCreds.load(options.usersFile, limit: options.users) } catch {
    log("dts-load: \(error)")
    exit(2)
}
print(
    "UserThreadTest.jmx: \(creds.count) users, ramp-up \(options.rampUpSeconds) s, pause scale \(options.pauseScale), "
        + "\(options.threads) loop thread(s), Google \(googleId), Apple \(appleId)")
let states = creds.map { UserState(creds: $0, googleId: googleId, appleId: appleId) }
let (stats, seconds) = runPhase(
    "users", steps: Plan.userThread, states: states, rampSeconds: options.rampUpSeconds,
    threads: options.threads)
print(SummaryTable.text(stats))
let total = stats.total
print(
    String(
        format: "%d users in %.1f s: %d samples, %d errors (%.2f%%), %.1f requests/s overall", creds.count, seconds,
        total.count, total.errors, total.count > 0 ? Double(total.errors) * 100 / Double(total.count) : 0,
        Double(total.count) / max(seconds, 0.001)))
if let path = options.reportPath {
    let html = HTMLReport.render(
        title: "dts-load: TestRun3 UserThreadTest, \(creds.count) users",
        facts: [
            ("command", HTMLReport.commandLine()), ("target", "http://\(options.host):\(options.port)"),
            ("users", String(creds.count)), ("ramp-up", "\(options.rampUpSeconds) s"),
            ("pause scale", String(options.pauseScale)),
            ("duration", String(format: "%.1f s", seconds)), ("finished", ISO8601DateFormatter().string(from: Date())),
        ], recorder: stats)
    do {
        try html.write(toFile: path, atomically: true, encoding: .utf8)
        log("report: \(path)")
    } catch {
        log("dts-load: cannot write the report \(path): \(error)")
    }
}
exit(total.errors == 0 ? 0 : 1)
