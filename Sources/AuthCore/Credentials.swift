import ServiceCore

/// Validated request bodies. Limits are in UTF-8 bytes. `user_name` must follow `UserName`'s rule
/// (ASCII, no look-alikes); `name` may not hold control characters (it goes into the audit log).
struct Credentials {
    static let maxPassword = 256
    static let maxName = 128

    let userName: String
    let password: String
    let name: String

    /// Register body: all three fields, non-empty strings within limits.
    static func register(_ body: [UInt8]) throws -> Credentials {
        let json = try object(body)
        let userName = try userNameField(json)
        let password = try field(json, "password", max: maxPassword, printable: false)
        let name = try field(json, "name", max: maxName, printable: true)
        return Credentials(userName: userName, password: password, name: name)
    }

    /// Login body: user_name and password. `name` is not needed.
    static func login(_ body: [UInt8]) throws -> Credentials {
        let json = try object(body)
        let userName = try userNameField(json)
        let password = try field(json, "password", max: maxPassword, printable: false)
        return Credentials(userName: userName, password: password, name: "")
    }

    private static func object(_ body: [UInt8]) throws -> JSON {
        let json = try JSON.parse(body)
        guard case .object = json else { throw HTTPError(400, "request body must be a JSON object") }
        return json
    }

    /// Login applies the rule too: an account stored before the rule existed under a name that
    /// breaks it (e.g. with a trailing space) can no longer sign in, so no look-alike gets a token.
    private static func userNameField(_ json: JSON) throws -> String {
        let text = try field(json, "user_name", max: 1024, printable: false)
        guard UserName.isValid(text) else {
            throw HTTPError(400, "user_name must be \(UserName.ruleText)")
        }
        return text
    }

    private static func field(_ json: JSON, _ key: String, max: Int, printable: Bool) throws -> String {
        guard let value = json[key], !value.isNull else { throw HTTPError(400, "\(key) is required") }
        guard let text = value.stringValue else { throw HTTPError(400, "\(key) must be a string") }
        guard !text.isEmpty else { throw HTTPError(400, "\(key) must not be empty") }
        guard text.utf8.count <= max else { throw HTTPError(400, "\(key) is longer than \(max) bytes") }
        if printable, text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7f }) {
            throw HTTPError(400, "\(key) must not contain control characters")
        }
        return text
    }
}
