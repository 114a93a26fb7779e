import ServiceCore

// The smallest service on the core library: used by the HTTP benchmark and the server tests.
// Open to any caller: it holds no data, acts on no identity and gets no secrets.
let service = Service(Topology.hello, callers: .anyone)
let helloBody = Array("Hello, World!".utf8)
service.router.get("/hello/", mode: .inline) { _, _ in
    HTTPResponse(status: 200, headers: [("Content-Type", "text/plain")], body: helloBody)
}
service.router.post("/hello/echo", mode: .blocking) { request, _ in
    HTTPResponse(status: 200, headers: [("Content-Type", "application/octet-stream")], body: request.body)
}
service.runForever()
