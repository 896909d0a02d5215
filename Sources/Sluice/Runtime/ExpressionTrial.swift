import SluiceCore
import SluiceStages

/// One expression tried on records one by one, as `sluice eval` does: the fastest way to
/// write a filter or a computed field without editing a config and running it.
///
/// Each record is one JSON text (an NDJSON line). The outcome of each is the expression's
/// value as compact JSON text, or why it could not be evaluated — a record that is not
/// JSON, or an evaluation error — with the part of the expression that failed.
///
/// ```swift
/// let trial = try ExpressionTrial("round(total * 100)")
/// trial.evaluate(#"{"total": 12.5}"#)   // .value("1250")
/// trial.evaluate(#"{}"#)                 // .failure(message: "'*' needs numbers, ...", span: 7..<18)
/// ```
public struct ExpressionTrial: Sendable {
    /// The outcome for one record.
    public enum Outcome: Sendable, Equatable {
        /// The value, as compact JSON text.
        case value(String)
        /// The record is not JSON (the message says where).
        case notJSON(String)
        /// Evaluating failed; `span` is the failing part of the expression as 0-based
        /// Unicode-scalar offsets into its text, when the message quotes it.
        case failure(message: String, span: Range<Int>?)
    }

    /// The expression as written.
    public let source: String
    private let expression: CompiledExpression

    /// Compiles `source`.
    ///
    /// - Throws: ``ExpressionError`` with the column of the problem.
    public init(_ source: String) throws(ExpressionError) {
        self.source = source
        expression = try CompiledExpression(source)
    }

    /// Evaluates the expression on one record's JSON text.
    ///
    /// - Parameter now: what `now()` returns, in seconds since 1970 (UTC).
    public func evaluate(_ record: String, now: Double = 0) -> Outcome {
        let bytes = Array(record.utf8)
        var batch = Batch(file: 0, index: 0, bytes: bytes, records: [RecordSlot(start: 0, end: bytes.count, line: 1, offset: 0)])
        do {
            try batch.indexRecord(at: 0)
        } catch {
            return .notJSON(error.description)
        }
        let root = Int(batch.records[0].tapeStart)
        let expression = expression
        return batch.withView { view in
            do throws(EvaluationError) {
                let value = try expression.evaluate(record: root, in: view, now: now)
                var writer = JSONWriter()
                SelectStage.write(value, view: view, to: &writer)
                return .value(String(decoding: writer.bytes, as: UTF8.self))
            } catch {
                return .failure(message: error.message, span: Self.span(quotedIn: error.message, source: source))
            }
        }
    }

    /// Where the sub-expression an evaluation message quotes (`... in 'total * 100'`) sits
    /// in `source`, as scalar offsets; nil when the message quotes nothing found there.
    static func span(quotedIn message: String, source: String) -> Range<Int>? {
        let marker = " in '"
        guard message.hasSuffix("'"), let start = message.range(of: marker, options: .backwards) else { return nil }
        let quoted = String(message[start.upperBound..<message.index(before: message.endIndex)])
        guard !quoted.isEmpty else { return nil }
        let text = Array(source.unicodeScalars)
        let needle = Array(quoted.unicodeScalars)
        guard needle.count <= text.count else { return nil }
        for i in 0...(text.count - needle.count) where text[i..<(i + needle.count)].elementsEqual(needle) {
            return i..<(i + needle.count)
        }
        return nil
    }

    /// Two lines that point at `span` of `source`: the text, and carets under the span.
    public static func pointer(at span: Range<Int>, in source: String, indent: String = "  ") -> String {
        let scalars = Array(source.unicodeScalars)
        let lower = min(max(0, span.lowerBound), scalars.count)
        let upper = min(max(lower + 1, span.upperBound), max(scalars.count, lower + 1))
        return indent + source + "\n" + indent + String(repeating: " ", count: lower) + String(repeating: "^", count: upper - lower)
    }
}
