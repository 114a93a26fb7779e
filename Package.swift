// swift-tools-version:6.0
import PackageDescription

// Every service is its own executable; all share ServiceCore (HTTP server/client on epoll,
// PostgreSQL via libpq, Redis via hiredis, OpenSSL crypto). No SwiftNIO anywhere in here.
let package = Package(
    name: "DayTrade",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "ServiceCore", targets: ["ServiceCore"]),
    ],
    targets: [
        // C libraries found through pkg-config.
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CHiredis", pkgConfig: "hiredis", providers: [.apt(["libhiredis-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        // Tiny C helpers for syscalls whose Swift import is awkward (packed epoll_event, eventfd).
        .target(name: "CShim"),

        .target(name: "ServiceCore", dependencies: ["CLibPQ", "CHiredis", "COpenSSL", "CShim"]),
        .target(name: "OrderBook"),

        .executableTarget(name: "hello", dependencies: ["ServiceCore"]),

        .testTarget(name: "ServiceCoreTests", dependencies: ["ServiceCore"]),
        .testTarget(name: "OrderBookTests", dependencies: ["OrderBook"]),
    ],
    swiftLanguageModes: [.v6]
)
