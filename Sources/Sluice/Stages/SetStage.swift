import SluiceCore

/// Adds or overwrites fields with the values of expressions; keeps every other field.
///
/// Every expression is evaluated on the input record before anything is written, so
/// `set: {a: b, b: a}` swaps. A path into a missing or non-object parent
/// (`customer.tier` without `customer`) creates the object. A `null` result writes
/// `null`. An evaluation error fails the record (kind `transform`) and names the
/// expression.
///
/// ```yaml
/// - name: enrich
///   set:
///     total_cents: 'round(total * 100)'
///     customer.tier: 'if(total > 100, "gold", "std")'
/// ```
public struct SetStage: Stage {
    /// Configuration of `set`.
    public struct Config: Sendable, Equatable {
        /// The fields to write, in config order: field path → expression.
        public var fields: [SelectStage.Field]

        public init(fields: [SelectStage.Field]) {
            self.fields = fields
        }
    }

    public static let kind = "set"

    let editor: RecordEditor
    let expressions: [CompiledExpression]

    /// - Throws: ``StageConfigError`` for a bad path, an expression that does not compile,
    ///   overlapping paths, or no fields.
    public static func make(config: Config) throws(StageConfigError) -> SetStage {
        var problems: [StageConfigProblem] = []
        var expressions: [CompiledExpression] = []
        for field in config.fields {
            do {
                expressions.append(try CompiledExpression(field.expression))
            } catch {
                problems.append(StageConfigProblem(keyPath: [kind, field.key], error))
            }
        }
        let edits = FieldEdits.editor(config.fields.map(\.key), keyPath: { [kind, config.fields[$0].key] }, problems: &problems)
        if config.fields.isEmpty { problems.append(StageConfigProblem(keyPath: [kind], message: "set needs at least one field")) }
        guard problems.isEmpty, let (editor, _) = edits else { throw StageConfigError(problems: problems) }
        return SetStage(editor: editor, expressions: expressions)
    }

    public func process(_ batch: inout Batch, context: StageContext) {
        FieldEdits.apply(&batch, context: context, editor: editor) { root, view, actions in
            for (k, expression) in expressions.enumerated() {
                do throws(EvaluationError) {
                    actions[k] = .value(try expression.evaluate(record: root, in: view, now: context.now))
                } catch {
                    return error.message
                }
            }
            return nil
        }
    }
}
