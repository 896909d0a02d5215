/// A problem in an expression's text, found when the expression is compiled.
///
/// Compile errors are config errors: they stop the run before any record is read.
/// The column is 1-based and counts Unicode scalars inside the expression text, so a
/// config loader can add it to the column where the expression's YAML scalar starts.
///
/// ```
/// unknown function 'lenn' at column 1 (did you mean 'len'?)
/// ```
public struct ExpressionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, without the place (`unknown function 'lenn'`).
    public var message: String
    /// 1-based column inside the expression; one past the end for "unexpected end".
    public var column: Int
    /// A suggestion shown after the place (`did you mean 'len'?`), if any.
    public var hint: String?

    public init(_ message: String, column: Int, hint: String? = nil) {
        self.message = message
        self.column = column
        self.hint = hint
    }

    /// `message at column N (hint)`.
    public var description: String {
        var text = "\(message) at column \(column)"
        if let hint { text += " (\(hint))" }
        return text
    }
}

/// Why an expression could not be evaluated on one record.
///
/// Evaluation errors are record errors: the runtime reports the record with kind
/// `transform` and goes on with the batch.
public struct EvaluationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
