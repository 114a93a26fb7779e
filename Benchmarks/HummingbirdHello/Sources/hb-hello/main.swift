// GET /hello/ -> 200 "Hello, World!" text/plain, mirroring the core `hello` service so
// scripts/bench-http compares the servers, not the handlers.
import Foundation
import Hummingbird

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

// Default event loop group: MultiThreadedEventLoopGroup.singleton, one loop per core.
let app = Application(
    router: router,
    configuration: .init(address: .hostname(host, port: port), serverName: nil)
)
try await app.runService()
