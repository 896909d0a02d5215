import Foundation
import SluiceCore
import SluiceIO

extension IncrementalConfig {
    /// The defaults of ``ConfigSchema/Input``, where they are declared.
    public init() {
        self.init(minAge: ConfigSchema.Input.minAge.defaultValue!, onChange: ConfigSchema.Input.onChange.defaultValue!,
                  maxRetries: ConfigSchema.Input.maxRetries.defaultValue!)
    }

    /// Reads `min_age`, `on_change`, `max_retries`, `on_success` and `on_failure` from
    /// an `input:` mapping (declared in ``ConfigSchema/Input``); nil after reporting a problem.
    static func build(_ map: [String: ConfigNode]) -> IncrementalConfig? {
        var config = IncrementalConfig()
        var ok = true
        if let value = map.read(ConfigSchema.Input.minAge) { config.minAge = value } else { ok = false }
        if let value = map.read(ConfigSchema.Input.onChange) { config.onChange = value } else { ok = false }
        if let value = map.read(ConfigSchema.Input.maxRetries) { config.maxRetries = value } else { ok = false }
        for (key, keyPath) in [(ConfigSchema.Input.onSuccess, \IncrementalConfig.onSuccess), (ConfigSchema.Input.onFailure, \.onFailure)] {
            guard let node = map[key.name] else { continue }
            if let value = postAction(node, key: key) { config[keyPath: keyPath] = value } else { ok = false }
        }
        return ok ? config : nil
    }

    /// A word (`keep`, `delete`: those `key` declares) or `{ move: DIR }`.
    private static func postAction(_ node: ConfigNode, key: ConfigKey) -> PostAction? {
        guard case .oneOf(let shapes) = key.type else { return nil }
        let words = shapes.lazy.compactMap { shape -> [String]? in if case .choice(let words) = shape { words } else { nil } }.first ?? []
        let move = ConfigSchema.Input.move.name
        if node.isMapping {
            guard let map = node.mapping(allowed: [move]), let target = map[move] else {
                if node.mapping(allowed: [move]) != nil { node.report("expected { \(move): DIR }") }
                return nil
            }
            guard let dir = target.string(), !dir.isEmpty else { return nil }
            return .move(dir)
        }
        guard let word = node.choice(words) else { return nil }
        return word == "delete" ? .delete : .keep
    }
}

extension ConfigNode {
    var isMapping: Bool {
        if case .mapping = node { return true }
        return false
    }

    /// A duration in seconds: `30s`, `500ms`, `5m`, `2h`, `1d` (a bare number is refused).
    public func duration() -> Double? {
        guard let text = node.scalar?.string, let value = parseDuration(text) else {
            report(durationProblem(node.scalar?.string ?? ""))
            return nil
        }
        return value
    }
}

/// Parses `30s`, `1.5s`, `500ms`, `5m`, `2h`, `1d` into seconds (nil when malformed,
/// negative, or without a unit).
public func parseDuration(_ text: String) -> Double? {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    let number = trimmed.prefix { $0.isNumber || $0 == "." }
    guard let value = Double(number), value >= 0 else { return nil }
    let unit = trimmed.dropFirst(number.count).trimmingCharacters(in: .whitespaces).lowercased()
    // No unit is no duration: "10" could mean seconds or minutes, so it is refused.
    let scale: [String: Double] = ["s": 1, "ms": 0.001, "m": 60, "min": 60, "h": 3600, "d": 86400]
    guard let factor = scale[unit] else { return nil }
    return value * factor
}
