/// Why a byte range is not one valid JSON value, and where.
///
/// Thrown by ``JSONIndexer``. The message names what was expected and what was found,
/// e.g. `expected ',' or '}' after an object member, found ']'`.
public struct JSONSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, in words fit for the error report.
    public var message: String
    /// Offset of the offending byte, counted from the first byte of the indexed range
    /// (the record's own text), so a caller adds the record's source offset to place it.
    public var offset: Int

    public init(message: String, offset: Int) {
        self.message = message
        self.offset = offset
    }

    public var description: String { "\(message) at byte \(offset)" }
}
