import Foundation

#if FUZZING
    import CFuzzDriver
#else
    import ArgumentParser
#endif

// The target is chosen by DT_FUZZ_TARGET (http | json | resp), read once: libFuzzer owns argv.
let fuzzTarget = ProcessInfo.processInfo.environment["DT_FUZZ_TARGET"] ?? "http"

/// One input through the chosen target (libFuzzer's conventional entry point name).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    FuzzTargets.run(fuzzTarget, UnsafeBufferPointer(start: data, count: size))
    return 0
}

@main
enum Main {
    static func main() {
        #if FUZZING
            // Built by scripts/fuzz with -sanitize=fuzzer: libFuzzer takes over (its flags, corpus dirs).
            // SwiftPM renames an executable's entry point, so libFuzzer's own main is not used.
            var argc = CommandLine.argc
            var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
            exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzOneInput(data, size) })
        #else
            CorpusReplay.main()
        #endif
    }
}

#if !FUZZING
    /// Without the fuzzer runtime (a plain `swift build`) the binary replays files or corpus
    /// folders through a target: `dt-fuzz --target json Fuzz/corpus/json`.
    struct CorpusReplay: ParsableCommand {
        enum Target: String, CaseIterable, ExpressibleByArgument {
            case http, json
        }

        static let configuration = CommandConfiguration(
            commandName: "dt-fuzz",
            abstract: "Replays fuzz inputs (files or corpus folders) through a parser target.",
            discussion: "Built by scripts/fuzz with -DFUZZING it is a libFuzzer binary instead (libFuzzer's flags).")

        @Option(help: "The parser to feed (default: env DT_FUZZ_TARGET, else http).")
        var target = Target(rawValue: fuzzTarget) ?? .http

        @Argument(help: ArgumentHelp("Input files or folders of them.", valueName: "path"))
        var paths: [String]

        func run() throws {
            var count = 0
            for arg in paths {
                let files =
                    (try? FileManager.default.contentsOfDirectory(atPath: arg))?.sorted().map { "\(arg)/\($0)" } ?? [
                        arg
                    ]
                for path in files {
                    guard let data = FileManager.default.contents(atPath: path) else {
                        throw ValidationError("cannot read \(path)")
                    }
                    data.withUnsafeBytes { raw in
                        FuzzTargets.run(
                            target.rawValue,
                            UnsafeBufferPointer(start: raw.bindMemory(to: UInt8.self).baseAddress, count: raw.count))
                    }
                    count += 1
                }
            }
            print("dt-fuzz: \(target.rawValue): \(count) inputs replayed, no failure")
        }
    }
#endif
