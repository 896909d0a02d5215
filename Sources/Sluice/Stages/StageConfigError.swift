/// One problem in a stage's config, found when the stage is built.
public struct StageConfigProblem: Sendable, Equatable, CustomStringConvertible {
    /// Where in the stage's config: the YAML keys from the stage kind down, e.g.
    /// `["select", "total_cents"]` or `["validate", "types", "id"]`.
    public var keyPath: [String]
    /// What is wrong; for an expression, includes its column (`... at column 7`).
    public var message: String
    /// 1-based column inside the expression text at `keyPath`, when the problem is in an
    /// expression, so a config loader can point at the exact character.
    public var column: Int?

    public init(keyPath: [String], message: String, column: Int? = nil) {
        self.keyPath = keyPath
        self.message = message
        self.column = column
    }

    /// `select.total_cents: unknown function 'rund' at column 1 (did you mean 'round'?)`.
    public var description: String {
        "\(keyPath.joined(separator: ".")): \(message)"
    }
}

/// A stage config that cannot run, with every problem found (not just the first).
public struct StageConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public var problems: [StageConfigProblem]

    public init(problems: [StageConfigProblem]) {
        self.problems = problems
    }

    public var description: String {
        problems.map(\.description).joined(separator: "\n")
    }
}

extension StageConfigProblem {
    /// A problem for an expression that failed to compile.
    init(keyPath: [String], _ error: ExpressionError) {
        self.init(keyPath: keyPath, message: error.description, column: error.column)
    }
}

extension ValueType {
    /// The type with its article, for messages ("an int", "a string").
    package var withArticle: String {
        switch self {
        case .int, .array, .object: return "an \(rawValue)"
        default: return "a \(rawValue)"
        }
    }
}
