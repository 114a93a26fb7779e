import Foundation
import ServiceCore

/// One user's connection to the classic API through nginx: register + login once, then send
/// commands with the token, re-logging in once if the token is refused.
struct ClassicSession {
    let base: BaseURL
    let user: String
    let password: String
    let timeoutMillis: Int
    private(set) var token: String? = nil
    /// Headers sent instead of the token when talking to a service directly (see `direct(to:)`).
    private var identityHeaders: [(String, String)]? = nil
    /// The gateway's proof for those headers: a service ignores identity without it.
    private var signer: GatewayProof? = nil

    init(base: BaseURL, user: String, password: String, timeoutMillis: Int) {
        self.base = base
        self.user = user
        self.password = password
        self.timeoutMillis = timeoutMillis
    }

    /// Deterministic password for a workload user, so a re-run can log in again.
    static func password(for user: String, salt: String) -> String {
        "Dts-" + String(Base64.encodeURL(Crypto.sha256(Array("\(salt)|\(user)".utf8))).prefix(24))
    }

    /// Registers (a duplicate answers 400, which is fine) and logs in.
    mutating func open(register: Bool, tally: inout Tally) throws {
        if register {
            let body: JSON = .object([
                ("user_name", .string(user)), ("password", .string(password)), ("name", .string(user)),
            ])
            let r = try ClassicSession.retrying(tally: &tally) {
                try HTTPClient.shared.json(
                    base.endpoint, method: "POST", path: base.path("/authentication/register"),
                    body: body, timeoutMillis: timeoutMillis)
            }
            guard r.status == 200 || r.status == 201 || r.status == 400 || r.status == 409 else {
                throw ReplayError.fatal(
                    "register \(user): HTTP \(r.status) \(String(decoding: r.body.prefix(200), as: UTF8.self))")
            }
        }
        try login(tally: &tally)
    }

    mutating func login(tally: inout Tally) throws {
        let body: JSON = .object([("user_name", .string(user)), ("password", .string(password))])
        let r = try ClassicSession.retrying(tally: &tally) {
            try HTTPClient.shared.json(
                base.endpoint, method: "POST", path: base.path("/authentication/login"),
                body: body, timeoutMillis: timeoutMillis)
        }
        guard r.status == 200, let t = (try? r.json())?["data"]?["token"]?.stringValue else {
            throw ReplayError.fatal(
                "login \(user): HTTP \(r.status) \(String(decoding: r.body.prefix(200), as: UTF8.self))")
        }
        token = t
    }

    var authHeaders: [(String, String)] {
        if let identityHeaders { return identityHeaders }
        return token.map { [("Authorization", "Bearer \($0)")] } ?? []
    }

    /// This logged-in session re-aimed at a service behind the gateway: the token's claims become
    /// the gateway's identity headers (x-user-id, x-user-name, x-user-role).
    func direct(to service: BaseURL, signer: GatewayProof?) throws -> ClassicSession {
        let parts = (token ?? "").split(separator: ".")
        guard parts.count == 3, let payload = Base64.decode(String(parts[1])), let claims = try? JSON.parse(payload),
            let sub = claims["sub"]?.stringValue
        else {
            throw ReplayError.fatal("cannot read the admin token's claims for --dump-url")
        }
        var s = ClassicSession(base: service, user: user, password: password, timeoutMillis: timeoutMillis)
        s.token = token
        s.identityHeaders = [
            ("x-user-id", sub), ("x-user-name", claims["name"]?.stringValue ?? user),
            ("x-user-role", claims["role"]?.stringValue ?? "user"), ("x-request-id", "dts-replay-dump"),
        ]
        s.signer = signer
        return s
    }

    /// Sends one command; DUMPLOG responses are streamed to `dumpFile`.
    mutating func send(_ cmd: WorkloadCommand, dumpFile: String?, tally: inout Tally) -> Outcome {
        let path = "/classic/" + cmd.name
        let body = ClassicSession.body(cmd).serializedBytes()
        var relogged = false
        while true {
            let status: Int
            let errorBody: [UInt8]
            do {
                var headers = authHeaders
                headers.append(("Content-Type", "application/json"))
                if let signer { headers = signer.signed(method: "POST", target: base.path(path), headers: headers) }
                if let dumpFile {
                    let r = try StreamingPost.post(
                        base, path: path, headers: headers, body: body, to: dumpFile,
                        timeoutMillis: max(timeoutMillis, 600_000))
                    (status, errorBody) = (r.status, r.errorBody)
                } else {
                    let r = try ClassicSession.retrying(tally: &tally) {
                        try HTTPClient.shared.request(
                            base.endpoint, method: "POST", path: base.path(path), headers: headers,
                            body: body, timeoutMillis: timeoutMillis)
                    }
                    (status, errorBody) = (r.status, r.body)
                }
            } catch let e as HTTPClientError {
                return .transportError(ClassicSession.kind(e))
            } catch {
                return .transportError("\(error)")
            }
            if (200..<300).contains(status) { return .ok }
            if status == 401 && !relogged {
                relogged = true
                do {
                    try login(tally: &tally)
                    continue
                } catch { return .transportError("HTTP 401 (re-login failed)") }
            }
            return ClassicSession.classify(status: status, body: errorBody)
        }
    }

    /// Error code from `{"success":false,"data":{"error":"CODE: ...","code":"CODE"}}`.
    static func classify(status: Int, body: [UInt8]) -> Outcome {
        let json = try? JSON.parse(body)
        if let code = json?["data"]?["code"]?.stringValue ?? json?["code"]?.stringValue, !code.isEmpty {
            return .commandError(code)
        }
        if status >= 500 { return .transportError("HTTP \(status)") }
        return .commandError("HTTP \(status)")
    }

    static func kind(_ e: HTTPClientError) -> String {
        switch e {
        case .connect: return "connect"
        case .timeout: return "timeout"
        case .io: return "io"
        case .malformedResponse: return "malformed response"
        }
    }

    /// JSON body per the contract: userid, stock, amount (the workload's text), filename, transactionNum.
    static func body(_ cmd: WorkloadCommand) -> JSON {
        var pairs: [(String, JSON)] = []
        if !cmd.user.isEmpty { pairs.append(("userid", .string(cmd.user))) }
        if cmd.hasStock { pairs.append(("stock", .string(cmd.stock))) }
        if cmd.hasAmount { pairs.append(("amount", .string(cmd.amount))) }
        if cmd.hasFilename { pairs.append(("filename", .string(cmd.filename))) }
        if cmd.txn > 0 { pairs.append(("transactionNum", .int(cmd.txn))) }
        return .object(pairs)
    }

    /// Retries what cannot have been acted on: refused connections, 429 (gateway rate limit, honouring
    /// Retry-After) and 503 without an error code (a full worker queue answers at once).
    static func retrying(tally: inout Tally, _ call: () throws -> ClientResponse) throws -> ClientResponse {
        var attempt = 0
        while true {
            attempt += 1
            let r: ClientResponse
            do {
                r = try call()
            } catch let error as HTTPClientError {
                if case .connect = error, attempt < 4 {
                    tally.retriedConnect += 1
                    usleep(UInt32(100_000 * attempt))
                    continue
                }
                throw error
            }
            if r.status == 429 && attempt < 60 {
                tally.retried429 += 1
                let after = r.header("retry-after").flatMap { Double($0) } ?? 0
                usleep(UInt32(min(2.0, max(after, 0.02 * Double(min(attempt, 20)))) * 1_000_000))
                continue
            }
            if r.status == 503 && attempt < 6, case .transportError = classify(status: r.status, body: r.body) {
                tally.retried503 += 1
                usleep(UInt32(50_000 * attempt))
                continue
            }
            return r
        }
    }
}
