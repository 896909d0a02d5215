/// One problem found in a pipeline config, with its place.
public struct ConfigProblem: Sendable, Equatable, CustomStringConvertible {
    /// The config file's path as given ("" for inline text).
    public var file: String
    /// 1-based line and column; 0 when the problem has no place (a missing key is
    /// reported at the mapping that lacks it).
    public var line: Int
    public var column: Int
    public var message: String

    public init(file: String, line: Int, column: Int, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    /// `file:line:column: message`, the format editors and CI logs understand.
    /// A problem with no place (an unreadable file, a `--set` argument) leaves the place out.
    public var description: String {
        let name = file.isEmpty ? "<config>" : file
        return line > 0 ? "\(name):\(line):\(column): \(message)" : "\(name): \(message)"
    }
}

/// A config that cannot run, with every problem found (not just the first).
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public var problems: [ConfigProblem]

    public init(problems: [ConfigProblem]) {
        self.problems = problems
    }

    public var description: String {
        problems.map(\.description).joined(separator: "\n")
    }
}
