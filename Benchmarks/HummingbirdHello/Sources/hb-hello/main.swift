// GET /hello/ -> 200 "Hello, World!" text/plain, mirroring the core `hello` service so
// scripts/bench-http compares the servers, not the handlers.
import Foundation
import Hummingbird
import NIOPosix

let env = ProcessInfo.processInfo.environment
let host = env["DT_HOST"] ?? "127.0.0.1"
let port = env["DT_PORT"].flatMap { Int($0) } ?? 8901

// Built once: every response shares the same bytes, like a static reply in the core service.
let helloBody = ByteBuffer(string: "Hello, World!")

let router = Router()
router.get("/hello/") { _, _ -> Response in
    Response(
        status: .ok,
        headers: [.contentType: "text/plain"],
        body: .init(byteBuffer: helloBody)
    )
}

// Default: MultiThreadedEventLoopGroup.singleton, one loop per core. DT_LOOPS, as for the core
// services, sets the loop count so scripts/bench-http can compare equal thread counts.
let configuration = ApplicationConfiguration(address: .hostname(host, port: port), serverName: nil)
if let loops = env["DT_LOOPS"].flatMap({ Int($0) }), loops > 0 {
    let app = Application(
        router: router,
        configuration: configuration,
        eventLoopGroupProvider: .shared(MultiThreadedEventLoopGroup(numberOfThreads: loops))
    )
    try await app.runService()
} else {
    let app = Application(router: router, configuration: configuration)
    try await app.runService()
}
