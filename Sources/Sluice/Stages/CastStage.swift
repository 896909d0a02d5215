import SluiceCore

/// Converts fields to a type: `int`, `float`, `string` or `bool`, with the rules of the
/// functions of the same name (see docs/expressions.md). A missing or `null` field is left
/// alone; a value that does not convert (`"abc"` to int) fails the record with kind
/// `transform`, naming the field — never a silent null or zero.
///
/// ```yaml
/// - name: types
///   cast: { total: float, id: string, paid: bool }
/// ```
public struct CastStage: Stage {
    /// Configuration of `cast`.
    public struct Config: Sendable, Equatable {
        /// Field path → target type (`int`, `float`, `string`, `bool`), in config order.
        public var fields: [SelectStage.Field]

        public init(fields: [SelectStage.Field]) {
            self.fields = fields
        }
    }

    public static let kind = "cast"
    static let types = ["int", "float", "string", "bool"]

    let editor: RecordEditor
    package let paths: [PathLookup]
    let conversions: [CompiledExpression]
    let names: [String]

    /// - Throws: ``StageConfigError`` for a bad path, an unknown type, or no fields.
    public static func make(config: Config) throws(StageConfigError) -> CastStage {
        var problems: [StageConfigProblem] = []
        var conversions: [CompiledExpression] = []
        for field in config.fields {
            guard types.contains(field.expression) else {
                var message = "unknown type '\(field.expression)' (expected one of \(types.joined(separator: ", ")))"
                if let guess = ExpressionCompiler.closest(to: field.expression, among: types)
                    ?? ["integer": "int", "double": "float", "number": "float", "boolean": "bool", "str": "string"][field.expression] {
                    message += "; did you mean '\(guess)'?"
                }
                problems.append(StageConfigProblem(keyPath: [kind, field.key], message: message))
                continue
            }
            if let path = try? FieldPath(parsing: field.key), let compiled = try? CompiledExpression("\(field.expression)(\(path))") {
                conversions.append(compiled)
            }
        }
        let edits = FieldEdits.editor(config.fields.map(\.key), keyPath: { [kind, config.fields[$0].key] }, problems: &problems)
        if config.fields.isEmpty { problems.append(StageConfigProblem(keyPath: [kind], message: "cast needs at least one field")) }
        guard problems.isEmpty, let (editor, paths) = edits else { throw StageConfigError(problems: problems) }
        return CastStage(editor: editor, paths: paths.map { PathLookup($0) }, conversions: conversions, names: config.fields.map(\.key))
    }

    public func process(_ batch: inout Batch, context: StageContext) {
        FieldEdits.apply(&batch, context: context, editor: editor) { root, view, actions in
            for (k, conversion) in conversions.enumerated() {
                guard let node = paths[k].resolve(in: view, root: root), view.kind(node) != .null else { continue }
                do throws(EvaluationError) {
                    actions[k] = .value(try conversion.evaluate(record: root, in: view))
                } catch {
                    return "cast of field '\(names[k])': \(error.message)"
                }
            }
            return nil
        }
    }
}
