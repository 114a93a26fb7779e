// swift-tools-version:6.1
import PackageDescription

// Micro-benchmarks (ordo-one/benchmark) for the order book, the HTTP/JSON parsers, logging and
// metrics. A package of its own so that normal builds and CI never build the benchmark
// framework; it uses the main package by path.
//   cd Benchmarks/Micro && swift package --allow-writing-to-package-directory benchmark
let package = Package(
    name: "DayTradeMicro",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "DayTrade", path: "../.."),
        // The default traits would add a runtime interposer that is not in the package mirror.
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "CoreBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "ServiceCore", package: "DayTrade"),
                .product(name: "OrderBook", package: "DayTrade"),
            ],
            path: "Benchmarks/CoreBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    ],
    swiftLanguageModes: [.v6]
)
