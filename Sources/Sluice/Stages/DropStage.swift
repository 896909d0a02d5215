import SluiceCore

/// Removes fields; the rest of the record is kept byte for byte. A field that is not
/// there is not an error.
///
/// ```yaml
/// - name: strip
///   drop: [internal_id, customer.email]
/// ```
public struct DropStage: Stage {
    /// Configuration of `drop`.
    public struct Config: Sendable, Equatable {
        /// Field paths to remove (`debug`, `customer.email`).
        public var fields: [String]

        public init(fields: [String]) {
            self.fields = fields
        }
    }

    public static let kind = "drop"

    let editor: RecordEditor

    /// - Throws: ``StageConfigError`` for a bad or overlapping path, or no fields.
    public static func make(config: Config) throws(StageConfigError) -> DropStage {
        var problems: [StageConfigProblem] = []
        let edits = FieldEdits.editor(config.fields, keyPath: { [kind, String($0)] }, problems: &problems)
        if config.fields.isEmpty { problems.append(StageConfigProblem(keyPath: [kind], message: "drop needs at least one field")) }
        guard problems.isEmpty, let (editor, _) = edits else { throw StageConfigError(problems: problems) }
        return DropStage(editor: editor)
    }

    public func process(_ batch: inout Batch, context: StageContext) {
        FieldEdits.apply(&batch, context: context, editor: editor) { _, _, actions in
            for k in 0..<actions.count { actions[k] = .remove }
            return nil
        }
    }
}
