import SluiceCore

/// Renames fields: the value moves to the new path (keeping its exact bytes) and the old
/// field is removed. A field that is not there is left alone (no new field appears).
///
/// ```yaml
/// - name: names
///   rename: { cust: customer_id, "meta.ts": timestamp }
/// ```
public struct RenameStage: Stage {
    /// Configuration of `rename`.
    public struct Config: Sendable, Equatable {
        /// Old field path → new field path, in config order.
        public var fields: [(from: String, to: String)]

        public init(fields: [(from: String, to: String)]) {
            self.fields = fields
        }

        public static func == (a: Config, b: Config) -> Bool {
            a.fields.map(\.from) == b.fields.map(\.from) && a.fields.map(\.to) == b.fields.map(\.to)
        }
    }

    public static let kind = "rename"

    let editor: RecordEditor
    let sources: [PathLookup]

    /// - Throws: ``StageConfigError`` for a bad or overlapping path, or no fields.
    public static func make(config: Config) throws(StageConfigError) -> RenameStage {
        var problems: [StageConfigProblem] = []
        let n = config.fields.count
        // Paths 0..<n are the old fields (removed), n..<2n the new ones (written).
        let edits = FieldEdits.editor(config.fields.map(\.from) + config.fields.map(\.to),
                                      keyPath: { [kind, config.fields[$0 % max(n, 1)].from] }, problems: &problems)
        if n == 0 { problems.append(StageConfigProblem(keyPath: [kind], message: "rename needs at least one field")) }
        guard problems.isEmpty, let (editor, paths) = edits else { throw StageConfigError(problems: problems) }
        return RenameStage(editor: editor, sources: paths[0..<n].map { PathLookup($0) })
    }

    public func process(_ batch: inout Batch, context: StageContext) {
        let n = sources.count
        FieldEdits.apply(&batch, context: context, editor: editor) { root, view, actions in
            for k in 0..<n {
                guard let node = sources[k].resolve(in: view, root: root) else { continue }
                actions[k] = .remove
                actions[n + k] = .raw(Array(view.rawBytes(node)))
            }
            return nil
        }
    }
}
