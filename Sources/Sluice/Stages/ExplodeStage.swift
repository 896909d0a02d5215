import SluiceCore

/// Makes one record per element of an array field: each a copy of the parent with the
/// field replaced by the element (or written to `as`, keeping the array). A record whose
/// field is missing, null or an empty array makes no record (counted as filtered); a
/// field that is not an array fails the record (kind `transform`).
///
/// ```yaml
/// - name: lines
///   explode: { field: items, as: item }
/// ```
public struct ExplodeStage: Stage {
    /// Configuration of `explode`.
    public struct Config: Sendable, Equatable {
        /// The array field (`items`, `order.lines`).
        public var field: String
        /// Where each element goes; by default it replaces `field`. When set, `field`
        /// is removed from the output records.
        public var target: String?

        public init(field: String, target: String? = nil) {
            self.field = field
            self.target = target
        }
    }

    public static let kind = "explode"

    let source: PathLookup
    let name: String
    let editor: RecordEditor
    let hasTarget: Bool

    /// - Throws: ``StageConfigError`` for a bad path.
    public static func make(config: Config) throws(StageConfigError) -> ExplodeStage {
        var problems: [StageConfigProblem] = []
        var paths = [config.field]
        if let target = config.target, target != config.field { paths.append(target) }
        let edits = FieldEdits.editor(paths, keyPath: { [kind, $0 == 0 ? "field" : "as"] }, problems: &problems)
        guard problems.isEmpty, let (editor, parsed) = edits else { throw StageConfigError(problems: problems) }
        return ExplodeStage(source: PathLookup(parsed[0]), name: config.field, editor: editor, hasTarget: paths.count == 2)
    }

    public func process(_ batch: inout Batch, context: StageContext) {
        let actions = UnsafeMutableBufferPointer<RecordEditor.Action>.allocate(capacity: 2)
        actions.initialize(repeating: .skip)
        defer {
            actions.deinitialize()
            actions.deallocate()
        }
        var created = 0
        batch.rewrite(context: context) { root, view, out in
            guard let node = source.resolve(in: view, root: root), view.kind(node) != .null else { return .drop }
            guard view.kind(node) == .array else {
                return .fail(.transform, "explode field '\(name)' is \(ValueType(node: node, in: view).withArticle), not an array")
            }
            var n = 0
            for element in view.elements(of: node) {
                if hasTarget {
                    actions[0] = .remove
                    actions[1] = .value(.node(element))
                } else {
                    actions[0] = .value(.node(element))
                }
                let start = out.writer.bytes.count
                editor.write(record: root, view: view, actions: UnsafeBufferPointer(actions), to: &out.writer)
                out.finish(from: start)
                n += 1
            }
            if n > 1 { created += n - 1 }
            return .keep
        }
        batch.created += created
    }
}
