import SluiceCore

/// Shared building blocks of the stages that edit fields in place.
enum FieldEdits {
    /// Parses `paths` and builds their editor, reporting problems under `keyPath(i)`.
    static func editor(_ paths: [String], keyPath: (Int) -> [String], problems: inout [StageConfigProblem]) -> (RecordEditor, [FieldPath])? {
        var parsed: [FieldPath] = []
        for (i, text) in paths.enumerated() {
            do {
                parsed.append(try FieldPath(parsing: text))
            } catch {
                problems.append(StageConfigProblem(keyPath: keyPath(i), message: "bad field path: \(error.description)"))
            }
        }
        guard parsed.count == paths.count else { return nil }
        do {
            return (try RecordEditor(paths: parsed), parsed)
        } catch {
            problems.append(StageConfigProblem(keyPath: keyPath(error.index), message: error.message))
            return nil
        }
    }

    /// Runs `decide` for every record and writes it through `editor`.
    static func apply(_ batch: inout Batch, context: StageContext, editor: RecordEditor,
                      _ decide: (_ root: Int, _ view: JSONView, _ actions: UnsafeMutableBufferPointer<RecordEditor.Action>) -> String?) {
        let actions = UnsafeMutableBufferPointer<RecordEditor.Action>.allocate(capacity: max(editor.count, 1))
        actions.initialize(repeating: .skip)
        defer {
            actions.deinitialize()
            actions.deallocate()
        }
        batch.rewrite(context: context) { root, view, out in
            for k in 0..<editor.count { actions[k] = .skip }
            if let failure = decide(root, view, actions) { return .fail(.transform, failure) }
            let start = out.writer.bytes.count
            editor.write(record: root, view: view, actions: UnsafeBufferPointer(actions), to: &out.writer)
            out.finish(from: start)
            return .keep
        }
    }
}
