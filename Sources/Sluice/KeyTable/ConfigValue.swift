/// A config value after the loader has checked it against its ``ConfigType``: what a
/// stage builder reads, so stages never see YAML or the loader's nodes.
///
/// A mapping keeps its keys in document order (``ConfigEntry``); a builder reads the
/// keys it declared through their ``Setting`` (`options[Keys.maxRows]`), which returns
/// the declared default when the key is absent.
public indirect enum ConfigValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case number(Double)
    case string(String)
    case strings([String])
    /// A duration, in seconds.
    case seconds(Double)
    case mapping([ConfigEntry])
    case list([ConfigValue])

    public var intValue: Int? { if case .int(let v) = self { v } else { nil } }
    public var numberValue: Double? {
        switch self {
        case .number(let v): return v
        case .int(let v): return Double(v)
        default: return nil
        }
    }
    public var stringValue: String? { if case .string(let v) = self { v } else { nil } }
    public var stringsValue: [String]? { if case .strings(let v) = self { v } else { nil } }
    public var secondsValue: Double? { if case .seconds(let v) = self { v } else { nil } }
    public var boolValue: Bool? { if case .bool(let v) = self { v } else { nil } }
    public var listValue: [ConfigValue]? { if case .list(let v) = self { v } else { nil } }
    /// The entries of a mapping, in document order.
    public var entries: [ConfigEntry]? { if case .mapping(let v) = self { v } else { nil } }

    /// The value under `name` in a mapping.
    public subscript(name: String) -> ConfigValue? {
        entries?.first { $0.key == name }?.value
    }

    /// Whether a mapping holds `setting`'s key.
    public func has<V>(_ setting: Setting<V>) -> Bool { self[setting.name] != nil }

    /// The value of `setting` in this mapping, or its default when the key is absent.
    ///
    /// Only for keys that have a default (or are optional); read a required key with
    /// ``required(_:)``.
    public subscript<V>(setting: Setting<V>) -> V {
        if let value = self[setting.name], let typed = setting.value(of: value) { return typed }
        guard let fallback = setting.defaultValue else {
            preconditionFailure("'\(setting.name)' has no default: read it with required(_:)")
        }
        return fallback
    }

    /// The value of a required key: nil only if the loader let a missing key through.
    public func required<V>(_ setting: Setting<V>) -> V? {
        self[setting.name].flatMap(setting.value(of:))
    }
}

/// One key and its value in a ``ConfigValue/mapping(_:)``.
public struct ConfigEntry: Sendable, Equatable {
    public var key: String
    public var value: ConfigValue

    public init(key: String, value: ConfigValue) {
        self.key = key
        self.value = value
    }
}
