import Foundation
import Logging
import SluiceCore

/// A swift-log handler that writes one JSON object per line (`--log-format json`):
/// `{"ts":"2026-11-29T01:12:12.345Z","level":"warning","label":"sluice","message":"…","metadata":{…}}`,
/// to standard error by default, for log shippers that parse JSON.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level = .notice
    public var metadata: Logger.Metadata = [:]
    private let label: String
    private let write: @Sendable (String) -> Void

    public init(label: String, write: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) {
        self.label = label
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let level = event.level, message = event.message, extra = event.metadata
        var object: [String: Any] = ["ts": Timestamp.now(), "level": level.rawValue, "label": label,
                                     "message": message.description]
        let merged = metadata.merging(extra ?? [:]) { $1 }
        if !merged.isEmpty { object["metadata"] = merged.mapValues { "\($0)" } }
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else { return }
        write(String(decoding: data, as: UTF8.self) + "\n")
    }
}
