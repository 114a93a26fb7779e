// swift-tools-version:6.0
import PackageDescription

// Comparison server for scripts/bench-http only: the same GET /hello/ as the core `hello`
// service, on Hummingbird (SwiftNIO). The services never depend on this package.
let package = Package(
    name: "HummingbirdHello",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        // Already a dependency of Hummingbird; named here for MultiThreadedEventLoopGroup (DT_LOOPS).
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        .executableTarget(
            name: "hb-hello",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        )
    ],
    swiftLanguageModes: [.v6]
)
