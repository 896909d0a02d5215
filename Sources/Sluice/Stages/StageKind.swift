import SluiceCore

/// A stage kind, described once by the stage itself: the key that selects it, a
/// one-line summary, the keys it takes (a ``ConfigKey`` whose type is the shape of the
/// value under the kind's key), an example, and how to build the stage from the checked
/// value.
///
/// The config loader reads the value through ``value`` (reporting unknown keys, wrong
/// types, ranges and missing required keys at their line and column), so a builder
/// only turns a ``ConfigValue`` into the stage's `Config`; `docs/stages.md` and the
/// JSON Schema are generated from the same declaration. Register a kind by adding it
/// to ``StageRegistry/kinds``.
///
/// ```swift
/// extension DedupeStage {
///     enum Keys {
///         static let key = Setting.required("key", .expression, "What identifies a record.")
///         static let maxKeys = Setting.integer("max_keys", 1...Int(Int32.max), default: 1_000_000, "…")
///     }
///     static let description = StageKind(
///         name: kind, summary: "Drop records whose key was seen earlier in the run.",
///         value: .mapping([Keys.key.key, Keys.maxKeys.key]), example: "{ key: id }"
///     ) { value, _ throws(StageConfigError) in
///         try make(config: .init(key: value.required(Keys.key) ?? "", maxKeys: value[Keys.maxKeys]))
///     }
/// }
/// ```
public struct StageKind: Sendable {
    /// The config key that selects this kind (`filter:`).
    public var name: String
    /// One line for listings and the generated docs.
    public var summary: String
    /// The value under the kind's key: its type (a mapping of keys, user-named fields,
    /// or a plain value) and, for a plain value, what it means.
    public var value: ConfigKey
    /// Whether the kind's key may be left empty (`flatten:`) to take every default.
    public var acceptsNull: Bool
    /// A value that builds a working stage on order records (YAML), for the docs and
    /// the compliance test that runs every kind.
    public var example: String
    /// Builds the stage from the checked value.
    ///
    /// - Throws: ``StageConfigError`` whose key paths (`["lookup", "fields", "name"]`)
    ///   the loader maps back to line and column.
    public let build: @Sendable (ConfigValue, StageBuildContext) throws(StageConfigError) -> any Stage

    public init(name: String, summary: String, value type: ConfigType, doc: String = "", acceptsNull: Bool = false,
                example: String, build: @escaping @Sendable (ConfigValue, StageBuildContext) throws(StageConfigError) -> any Stage) {
        self.name = name
        self.summary = summary
        self.value = ConfigKey(name, type, doc)
        self.acceptsNull = acceptsNull
        self.example = example
        self.build = build
    }

    /// The keys of a mapping value (every alternative's, for a value of several shapes).
    public var keys: [ConfigKey] {
        switch value.type {
        case .mapping(let keys): return keys
        case .oneOf(let types):
            return types.flatMap { type -> [ConfigKey] in
                if case .mapping(let keys) = type { return keys }
                return []
            }
        default: return []
        }
    }
}

/// What a stage builder may know about where its config came from.
public struct StageBuildContext: Sendable {
    /// The stage's name (`name:`, or `KIND-N`).
    public var stageName: String
    /// The config file's directory ("" for inline text): relative paths in a stage's
    /// config (a lookup's reference file) start here.
    public var baseDirectory: String

    public init(stageName: String, baseDirectory: String = "") {
        self.stageName = stageName
        self.baseDirectory = baseDirectory
    }
}
