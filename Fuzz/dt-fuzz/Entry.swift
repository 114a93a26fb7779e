import Foundation
#if FUZZING
import CFuzzDriver
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
        replay(CommandLine.arguments.dropFirst())
        #endif
    }

    /// Without the fuzzer runtime (a plain `swift build`) the binary replays files or corpus
    /// folders through the target: `DT_FUZZ_TARGET=json dt-fuzz Fuzz/corpus/json`.
    static func replay(_ paths: ArraySlice<String>) {
        var count = 0
        for arg in paths {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: arg))?.sorted().map { "\(arg)/\($0)" } ?? [arg]
            for path in files {
                guard let data = FileManager.default.contents(atPath: path) else {
                    print("dt-fuzz: cannot read \(path)")
                    exit(1)
                }
                data.withUnsafeBytes { raw in
                    _ = fuzzOneInput(raw.bindMemory(to: UInt8.self).baseAddress, raw.count)
                }
                count += 1
            }
        }
        print("dt-fuzz: \(fuzzTarget): \(count) inputs replayed, no failure")
    }
}
