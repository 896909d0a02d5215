/// Why reading a file stopped early; internal to the reader, turned into
/// ``FileReadOutcome`` at the ``FileReader`` boundary.
package enum InputFault: Error {
    /// The file could not be opened, read or decompressed. `offset` is in the file itself.
    case io(message: String, offset: Int?)
    /// The structure of the file is broken (a JSON array that does not close).
    /// `offset` and `line` are in the decoded text.
    case parse(message: String, offset: Int, line: Int)
    /// The consumer's `emit` threw.
    case cancelled
}
