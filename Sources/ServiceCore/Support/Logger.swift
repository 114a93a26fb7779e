import Foundation

/// Structured logs: one JSON object per line on stderr.
public struct Logger: Sendable {
    public enum Level: Int, Sendable, Comparable {
        case debug, info, warn, error
        public static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }
        var name: String { ["debug", "info", "warn", "error"][rawValue] }
    }

    public let service: String
    public let minimum: Level

    public init(service: String, minimum: Level = .info) {
        self.service = service
        self.minimum = minimum
    }

    public init(config: ServiceConfig) {
        let level: Level = switch config.string("DT_LOG_LEVEL", default: "info") {
        case "debug": .debug
        case "warn": .warn
        case "error": .error
        default: .info
        }
        self.init(service: config.name, minimum: level)
    }

    public func debug(_ msg: String, _ fields: [(String, JSON)] = []) { log(.debug, msg, fields) }
    public func info(_ msg: String, _ fields: [(String, JSON)] = []) { log(.info, msg, fields) }
    public func warn(_ msg: String, _ fields: [(String, JSON)] = []) { log(.warn, msg, fields) }
    public func error(_ msg: String, _ fields: [(String, JSON)] = []) { log(.error, msg, fields) }

    public func log(_ level: Level, _ msg: String, _ fields: [(String, JSON)]) {
        guard level >= minimum else { return }
        var obj: [(String, JSON)] = [("ts", .int(Clock.wallMillis())), ("level", .string(level.name)),
                                     ("svc", .string(service)), ("msg", .string(msg))]
        obj.append(contentsOf: fields)
        var bytes = JSON.object(obj).serializedBytes()
        bytes.append(UInt8(ascii: "\n"))
        // One write(2) per line keeps lines from different threads whole.
        _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }
}
