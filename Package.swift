// swift-tools-version:6.0
import PackageDescription

// Every service is its own executable; all share ServiceCore (HTTP server/client on epoll,
// PostgreSQL via libpq, Redis via hiredis, OpenSSL crypto). No SwiftNIO anywhere in here.
let core: [Target.Dependency] = ["ServiceCore"]
let argumentParser: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")
let histogram: Target.Dependency = .product(name: "Histogram", package: "hdrhistogram-swift")

let package = Package(
    name: "DayTrade",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "ServiceCore", targets: ["ServiceCore"]),
        // For the micro-benchmark package in Benchmarks/Micro.
        .library(name: "OrderBook", targets: ["OrderBook"]),
    ],
    // None of these pulls in SwiftNIO (`swift package show-dependencies`); README "Libraries we use
    // and why" gives the hot-path cost of each.
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
    ],
    targets: [
        // C libraries found through pkg-config.
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CHiredis", pkgConfig: "hiredis", providers: [.apt(["libhiredis-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        // Tiny C helpers for syscalls whose Swift import is awkward (packed epoll_event, eventfd).
        .target(name: "CShim"),

        // Libraries.
        .target(name: "ServiceCore", dependencies: [
            "CLibPQ", "CHiredis", "COpenSSL", "CShim",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "CoreMetrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ],
                // Release builds skip the run-time exclusivity checks (swift_beginAccess on every class
                // property the event loop touches: ~0.8k instructions per request, BENCHMARKS.md issue 11).
                // Debug builds (scripts/test, scripts/fuzz) keep them, so an
                // overlapping access is still caught there; the loop's state is owned by one thread.
                swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]),
        .target(name: "Ledger", dependencies: core),                       // shared schema: users, accounts, stocks, holdings
        .target(name: "OrderBook"),                                        // pure price-time matching
        .target(name: "ClassicCore", dependencies: ["Ledger"]),            // the 16 classic commands, audit log, quotes
        .target(name: "StreamCore", dependencies: core),                   // the live event stream: Redis feed, SSE fan-out, tickets
        .target(name: "PlatformCore", dependencies: ["Ledger", "OrderBook", "StreamCore"], // order-book platform ledger + engine
                // Swift 6.3.1's SIL loop-invariant-code-motion pass does not finish on this module in
                // -O (30+ CPU minutes, stack in LICM's alias analysis); without it -O takes ~1 min.
                swiftSettings: [.unsafeFlags(["-Xllvm", "-sil-disable-pass=loop-invariant-code-motion"],
                                             .when(configuration: .release))]),
        .target(name: "LoadReport", dependencies: [histogram]), // load-run stats + HTML report
        .target(name: "GatewayCore", dependencies: ["ServiceCore", "CShim"]),  // tokens, limits, breakers, bulkheads, event-driven proxy
        .target(name: "AuthCore", dependencies: ["Ledger"]),               // register/login handlers, PBKDF2, login throttle
        .target(name: "QuoteCore", dependencies: core),                    // quote simulator: price walks, signer, HTTP + line protocol

        // Services.
        .executableTarget(name: "hello", dependencies: core),
        .executableTarget(name: "gateway", dependencies: ["GatewayCore"]),
        .executableTarget(name: "auth", dependencies: ["AuthCore", argumentParser]),
        .executableTarget(name: "quote-server", dependencies: ["QuoteCore"]),
        .executableTarget(name: "buy", dependencies: ["ClassicCore"]),
        .executableTarget(name: "sell", dependencies: ["ClassicCore"]),
        .executableTarget(name: "user-utilities", dependencies: ["ClassicCore"]),
        .executableTarget(name: "trigger-worker", dependencies: ["ClassicCore"]),
        .executableTarget(name: "matching-engine", dependencies: ["PlatformCore"]),
        .executableTarget(name: "market-stream", dependencies: ["StreamCore"]),

        // Tools and benchmarks.
        .executableTarget(name: "dts-replay", dependencies: ["ServiceCore", "LoadReport", argumentParser]),
        .executableTarget(name: "dts-load", dependencies: ["ServiceCore", "LoadReport", argumentParser]),
        .executableTarget(name: "dts-stream", dependencies: ["ServiceCore", "CShim", argumentParser]),
        .executableTarget(name: "bench-orderbook", dependencies: ["OrderBook", histogram, argumentParser],
                          path: "Benchmarks/OrderBookBench"),
        // Fuzz target for the HTTP head and JSON parsers: libFuzzer under scripts/fuzz, a corpus
        // replayer in a plain build.
        .executableTarget(name: "dt-fuzz", dependencies: ["ServiceCore", "CFuzzDriver", argumentParser], path: "Fuzz/dt-fuzz"),
        .target(name: "CFuzzDriver", path: "Fuzz/CFuzzDriver"),

        // Tests (run through scripts/test, which starts PostgreSQL, Redis, nginx and the services).
        .testTarget(name: "ServiceCoreTests", dependencies: ["ServiceCore", "CShim"]),
        .testTarget(name: "OrderBookTests", dependencies: ["OrderBook"]),
        .testTarget(name: "LoadReportTests", dependencies: ["LoadReport"]),
        .testTarget(name: "ClassicTests", dependencies: ["ClassicCore"]),
        .testTarget(name: "PlatformTests", dependencies: ["PlatformCore", "StreamCore"]),
        .testTarget(name: "AuthTests", dependencies: ["AuthCore"]),
        .testTarget(name: "QuoteTests", dependencies: ["QuoteCore"]),
        .testTarget(name: "GatewayTests", dependencies: ["GatewayCore", "ServiceCore", "CShim"]),
    ],
    swiftLanguageModes: [.v6]
)
