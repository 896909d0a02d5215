import SluiceCore

/// Keeps the records for which a condition is true; drops the rest.
///
/// A record is kept when the condition evaluates to `true`, and dropped (counted as
/// filtered, not an error) when it is `false` or `null` — so `total > 100` drops records
/// without a `total`. A condition that evaluates to anything else (a number, a string,
/// an array, an object) fails the record with kind `transform`, e.g. "filter expression
/// returned a string", and so does an evaluation error such as a division by zero.
///
/// ```yaml
/// - name: drop-cancelled
///   filter: 'status != "cancelled"'
/// ```
public struct FilterStage: Stage {
    /// Configuration of `filter`.
    public struct Config: Sendable, Equatable {
        /// The condition, an expression over the record (see ``CompiledExpression``),
        /// e.g. `status != "cancelled" && total > 0`. Records for which it is true are kept.
        public var condition: String

        public init(condition: String) {
            self.condition = condition
        }
    }

    public static let kind = "filter"

    /// The compiled condition.
    public let condition: CompiledExpression
    /// The condition's root when it is `field == "text"` or `field != "text"` (the
    /// bench's `status != "cancelled"`): decided per record by a direct call, without the
    /// virtual evaluation, its value and its error handling (the same result: such a
    /// comparison is never null and never fails). `condition` keeps it alive.
    private let textComparison: Unmanaged<CompareNode>?

    init(condition: CompiledExpression) {
        self.condition = condition
        if let compare = condition.root as? CompareNode, compare.isTextComparison {
            textComparison = Unmanaged.passUnretained(compare)
        } else {
            textComparison = nil
        }
    }

    /// Builds the stage, compiling its condition.
    ///
    /// - Throws: ``StageConfigError`` (key path `["filter"]`) when the condition does not
    ///   compile, or can never be a bool (`len(items)`, `"yes"`).
    public static func make(config: Config) throws(StageConfigError) -> FilterStage {
        let condition: CompiledExpression
        do {
            condition = try CompiledExpression(config.condition)
        } catch {
            throw StageConfigError(problems: [StageConfigProblem(keyPath: [kind], error)])
        }
        switch condition.staticType {
        case .number, .string, .null, .array:
            throw StageConfigError(problems: [StageConfigProblem(
                keyPath: [kind],
                message: "a filter needs a condition that is true or false, but '\(config.condition)' is always a \(condition.staticType.name)",
                column: 1)])
        case .bool, .unknown:
            return FilterStage(condition: condition)
        }
    }

    public func process(_ batch: inout Batch, context: StageContext) {
        if let textComparison {
            let now = context.now
            batch.siftRecords(context: context) { view, root in
                let keep = textComparison._withUnsafeGuaranteedRef { $0.textComparison(EvaluationContext(view: view, root: root, now: now)) }
                return keep ? .keep : .drop
            }
            return
        }
        batch.siftRecords(context: context) { view, root in
            do throws(EvaluationError) {
                switch try condition.evaluate(record: root, in: view, now: context.now) {
                case .bool(true): return .keep
                case .bool(false), .null: return .drop
                case let other: return .fail(.transform, "filter expression returned \(other.type(in: view).withArticle)")
                }
            } catch {
                return .fail(.transform, error.message)
            }
        }
    }
}
