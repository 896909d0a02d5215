/// One key of a config mapping: its name, type, default and documentation — the row
/// of the key table that the loader checks against and the docs and JSON Schema are
/// generated from.
public struct ConfigKey: Sendable {
    public var name: String
    public var type: ConfigType
    public var doc: String
    /// The default as written in YAML, when there is one (generated from the typed
    /// default of a ``Setting``).
    public var defaultValue: String?
    public var isRequired: Bool
    /// Added to "missing required key 'run'" to say what the key holds.
    public var missingHint: String?

    public init(_ name: String, _ type: ConfigType, _ doc: String, default defaultValue: String? = nil,
                required: Bool = false, missingHint: String? = nil) {
        self.name = name
        self.type = type
        self.doc = doc
        self.defaultValue = defaultValue
        self.isRequired = required
        self.missingHint = missingHint
    }
}

/// A typed key: its row of the key table plus its default as a value, so a loader
/// reads `readers` as an `Int` in 1–256 defaulting to 2 from one declaration:
///
/// ```swift
/// static let readers = Setting.integer("readers", 1...256, default: 2, "Files read at once.")
/// let readers = map.read(readers)                  // the config loader (Int?, nil = reported)
/// let readers = options[readers]                   // a stage builder (ConfigValue, checked)
/// ```
///
/// A setting without a default is optional (`Setting<Int?>`, absent → nil) or required
/// (the loader reports it missing before anything reads it).
public struct Setting<Value: Sendable>: Sendable {
    public let key: ConfigKey
    /// The value of an absent key; nil for a required key.
    public let defaultValue: Value?
    let decode: @Sendable (ConfigValue) -> Value?

    public init(key: ConfigKey, default defaultValue: Value?, decode: @escaping @Sendable (ConfigValue) -> Value?) {
        self.key = key
        self.defaultValue = defaultValue
        self.decode = decode
    }

    public var name: String { key.name }

    /// The value of `value` read as this key's type (nil when it has another shape,
    /// which the loader has already reported).
    public func value(of value: ConfigValue) -> Value? { decode(value) }
}

// MARK: Constructors, one per kind of value

extension Setting where Value == Int {
    public static func integer(_ name: String, _ range: ClosedRange<Int>, default value: Int, _ doc: String) -> Self {
        Self(key: ConfigKey(name, .integer(range), doc, default: String(value)), default: value, decode: \.intValue)
    }

    public static func byteSize(_ name: String, _ range: ClosedRange<Int>, default value: Int, _ doc: String) -> Self {
        Self(key: ConfigKey(name, .byteSize(range), doc, default: formatByteSize(value)), default: value, decode: \.intValue)
    }

    public static func workers(_ name: String, default value: Int, _ doc: String) -> Self {
        Self(key: ConfigKey(name, .workers, doc, default: String(value)), default: value, decode: \.intValue)
    }
}

extension Setting where Value == Int? {
    /// An integer without a default: absent is nil.
    public static func integer(_ name: String, _ range: ClosedRange<Int>, _ doc: String) -> Self {
        Self(key: ConfigKey(name, .integer(range), doc), default: .some(nil), decode: { $0.intValue })
    }

    public static func byteSize(_ name: String, _ range: ClosedRange<Int>, _ doc: String) -> Self {
        Self(key: ConfigKey(name, .byteSize(range), doc), default: .some(nil), decode: { $0.intValue })
    }
}

extension Setting where Value == Double {
    /// A number the key must hold (no default).
    public static func number(_ name: String, _ range: ClosedRange<Double>, required: Bool, _ doc: String) -> Self {
        Self(key: ConfigKey(name, .number(range), doc, required: required), default: nil, decode: \.numberValue)
    }

    /// A duration in seconds; `shown` is the default as the docs write it.
    public static func seconds(_ name: String, default value: Double, shown: String, _ doc: String) -> Self {
        Self(key: ConfigKey(name, .duration(), doc, default: shown), default: value, decode: \.secondsValue)
    }
}

extension Setting where Value == Double? {
    public static func number(_ name: String, _ range: ClosedRange<Double>, _ doc: String) -> Self {
        Self(key: ConfigKey(name, .number(range), doc), default: .some(nil), decode: { $0.numberValue })
    }
}

extension Setting where Value == Duration {
    /// A duration within `range`, read to the millisecond.
    public static func duration(_ name: String, _ range: ClosedRange<Duration>, default value: Duration, _ doc: String) -> Self {
        Self(key: ConfigKey(name, .duration(range), doc, default: formatDuration(value)), default: value,
             decode: { $0.secondsValue.map { .milliseconds(Int64(($0 * 1000).rounded())) } })
    }
}

extension Setting where Value == String {
    /// A string with a default.
    public static func string(_ name: String, default value: String, _ doc: String) -> Self {
        Self(key: ConfigKey(name, .string, doc, default: value), default: value, decode: \.stringValue)
    }

    /// A string, expression or field path the key must hold.
    public static func required(_ name: String, _ type: ConfigType = .string, _ doc: String, missingHint: String? = nil) -> Self {
        Self(key: ConfigKey(name, type, doc, required: true, missingHint: missingHint), default: nil, decode: \.stringValue)
    }

    /// One of `words`.
    public static func choice(_ name: String, _ words: [String], default value: String, _ doc: String) -> Self {
        Self(key: ConfigKey(name, .choice(words), doc, default: value), default: value, decode: \.stringValue)
    }
}

extension Setting where Value == String? {
    /// A string, expression or field path without a default: absent is nil.
    public static func optional(_ name: String, _ type: ConfigType = .string, _ doc: String) -> Self {
        Self(key: ConfigKey(name, type, doc), default: .some(nil), decode: { $0.stringValue })
    }
}

extension Setting where Value == [String] {
    /// A list of strings (one string is a list of one); absent is empty.
    public static func stringList(_ name: String, _ doc: String, default values: [String] = []) -> Self {
        Self(key: ConfigKey(name, .stringList, doc, default: values.isEmpty ? nil : values.joined(separator: ", ")), default: values,
             decode: \.stringsValue)
    }

    /// A list of strings the key must hold, e.g. a program and its arguments.
    public static func requiredList(_ name: String, _ type: ConfigType, _ doc: String, missingHint: String? = nil) -> Self {
        Self(key: ConfigKey(name, type, doc, required: true, missingHint: missingHint), default: nil, decode: \.stringsValue)
    }
}

extension Setting where Value: RawRepresentable & CaseIterable & Sendable, Value.RawValue == String {
    /// One of an enumeration's raw values, in its declaration order: adding a case
    /// adds the word to the loader, the docs and the schema.
    public static func choice(_ name: String, default value: Value, _ doc: String) -> Self {
        Self(key: ConfigKey(name, .choice(Value.allCases.map(\.rawValue)), doc, default: value.rawValue), default: value,
             decode: { $0.stringValue.flatMap(Value.init(rawValue:)) })
    }
}

extension Setting where Value == [ConfigEntry] {
    /// A mapping of user-chosen keys (`label` in the docs) to values of `type`, in
    /// document order; absent is empty.
    public static func fields(_ name: String, label: String, _ type: ConfigType, _ doc: String) -> Self {
        Self(key: ConfigKey(name, .fields(label: label, type), doc), default: [], decode: \.entries)
    }
}

extension Setting where Value == [ConfigValue] {
    /// A list of values of `element`; absent is empty.
    public static func list(_ name: String, of element: ConfigType, _ doc: String) -> Self {
        Self(key: ConfigKey(name, .list(element), doc), default: [], decode: \.listValue)
    }
}

/// `16MiB`, `4MiB`, `512KiB` or a number of bytes: the shortest exact binary unit.
func formatByteSize(_ bytes: Int) -> String {
    for (shift, unit) in [(30, "GiB"), (20, "MiB"), (10, "KiB")] where bytes > 0 && bytes % (1 << shift) == 0 {
        return "\(bytes >> shift)\(unit)"
    }
    return String(bytes)
}

/// `500ms`, `2s`, `1.5s`, `5m`: the shortest of these that is exact.
package func formatDuration(_ duration: Duration) -> String {
    let ms = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    if ms % 3_600_000 == 0, ms > 0 { return "\(ms / 3_600_000)h" }
    if ms % 60_000 == 0, ms > 0 { return "\(ms / 60_000)m" }
    if ms % 1000 == 0 { return "\(ms / 1000)s" }
    if ms >= 1000 { return "\(Double(ms) / 1000)s" }
    return "\(ms)ms"
}
