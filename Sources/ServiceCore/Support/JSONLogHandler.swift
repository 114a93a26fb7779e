import Glibc
@_exported import Logging

/// swift-log handler writing one JSON object per line on stderr:
/// `{"ts":<ms>,"level":"info","svc":"auth","msg":"…",<metadata, keys sorted>}`.
/// Integer, boolean and `JSON` metadata stay typed (`"port": .stringConvertible(8080)` → `"port":8080`).
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let service: String
    private let fd: Int32

    public init(service: String, level: Logger.Level = .info, fd: Int32 = 2) {
        self.service = service
        self.logLevel = level
        self.fd = fd
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        // Merge only when there is something to merge: most lines carry just the call's metadata.
        var merged = event.metadata ?? [:]
        if !metadata.isEmpty || metadataProvider != nil {
            merged = metadata
            if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
            if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        }
        var fields: [(String, JSON)] = []
        fields.reserveCapacity(5 + merged.count)
        fields.append(contentsOf: [
            ("ts", .int(Clock.wallMillis())), ("level", .string(Self.name(event.level))),
            ("svc", .string(service)), ("msg", .string(event.message.description)),
        ])
        for key in merged.keys.sorted() {
            if let value = merged[key] { fields.append((key, Self.json(value))) }
        }
        if let error = event.error { fields.append(("error", .string("\(error)"))) }
        var bytes = JSON.object(fields).serializedBytes()
        bytes.append(UInt8(ascii: "\n"))
        // One write(2) per line keeps lines from different threads whole.
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }

    /// Level names as the logs have always said them ("warn", not "warning").
    static func name(_ level: Logger.Level) -> String {
        level == .warning ? "warn" : level.rawValue
    }

    static func json(_ value: Logger.Metadata.Value) -> JSON {
        switch value {
        case .string(let s): return .string(s)
        case .stringConvertible(let v):
            switch v {
            case let j as JSON: return j
            case let b as Bool: return .bool(b)
            case let i as Int: return .int(i)
            case let i as Int64: return .int(i)
            case let i as UInt64: return .int(i)
            case let i as Int32: return .int(i)
            default: return .string(v.description)
            }
        case .dictionary(let d): return .object(d.keys.sorted().compactMap { k in d[k].map { (k, json($0)) } })
        case .array(let a): return .array(a.map(json))
        }
    }
}

extension JSON: CustomStringConvertible {
    public var description: String { serialized() }
}

extension Logger {
    /// A logger for `service` through `JSONLogHandler`. Built per service rather than through
    /// `LoggingSystem.bootstrap` (once per process): tests run several servers in one process.
    public static func json(service: String, level: Logger.Level = .info) -> Logger {
        Logger(label: service) { _ in JSONLogHandler(service: service, level: level) }
    }

    /// The service's logger at DT_LOG_LEVEL (trace, debug, info, notice, warn/warning, error, critical).
    public static func json(config: ServiceConfig) -> Logger {
        let text = config.string("DT_LOG_LEVEL", default: "info").lowercased()
        let level = text == "warn" ? .warning : Logger.Level(rawValue: text) ?? .info
        return json(service: config.name, level: level)
    }
}
