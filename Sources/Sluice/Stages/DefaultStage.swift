import SluiceCore

/// Fills fields that are missing or `null` with the value of an expression; fields that
/// have a value are left alone.
///
/// ```yaml
/// - name: defaults
///   default:
///     currency: '"EUR"'
///     customer.country: '"unknown"'
/// ```
public struct DefaultStage: Stage {
    /// Configuration of `default`.
    public struct Config: Sendable, Equatable {
        /// Field path → expression giving the value to fill in when the field is missing
        /// or null (evaluated on the input record).
        public var fields: [SelectStage.Field]

        public init(fields: [SelectStage.Field]) {
            self.fields = fields
        }
    }

    public static let kind = "default"

    let editor: RecordEditor
    package let paths: [PathLookup]
    let expressions: [CompiledExpression]

    /// - Throws: ``StageConfigError`` for a bad path, an expression that does not compile,
    ///   overlapping paths, or no fields.
    public static func make(config: Config) throws(StageConfigError) -> DefaultStage {
        let set: SetStage
        do {
            set = try SetStage.make(config: .init(fields: config.fields))
        } catch {
            throw StageConfigError(problems: error.problems.map {
                var p = $0
                p.keyPath[0] = kind
                p.message = p.message.replacingOccurrences(of: "set needs", with: "default needs")
                return p
            })
        }
        let paths = config.fields.map { PathLookup(try! FieldPath(parsing: $0.key)) }
        return DefaultStage(editor: set.editor, paths: paths, expressions: set.expressions)
    }

    public func process(_ batch: inout Batch, context: StageContext) {
        FieldEdits.apply(&batch, context: context, editor: editor) { root, view, actions in
            for (k, expression) in expressions.enumerated() {
                if let node = paths[k].resolve(in: view, root: root), view.kind(node) != .null { continue }
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
