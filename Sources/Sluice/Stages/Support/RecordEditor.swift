import SluiceCore

/// Rewrites a record's object with edits at field paths, copying every other member as
/// its exact source bytes (the engine behind `set`, `rename`, `drop`, `default`, `cast`,
/// `lookup` and `explode`).
///
/// The edits' paths are fixed at config load and laid out as a tree of keys; per record a
/// stage fills one ``Action`` per path. Paths are object keys only (`customer.tier`); a
/// path whose parent is missing or not an object creates (or replaces it with) an object
/// when something is written under it. Edited members keep their place; added members
/// come after the existing ones, in config order.
final class RecordEditor: Sendable {
    enum Action: Sendable {
        /// Leave the member as it is (or absent).
        case skip
        /// Remove the member.
        case remove
        /// Write this value (added when absent).
        case value(ExpressionValue)
        /// Write this JSON text (added when absent).
        case raw([UInt8])
    }

    // Built once while the editor is constructed and only read afterwards (every worker
    // shares it read-only), so the unchecked `Sendable` is sound.
    private final class Tree: @unchecked Sendable {
        /// Key bytes, and either a leaf (action index) or a subtree.
        var entries: [(key: [UInt8], leaf: Int?, subtree: Tree?)] = []
    }

    private let root = Tree()
    /// Number of paths (the size of a stage's action array).
    let count: Int

    /// - Throws: a message when a path has an index or `[*]` step, or is the prefix of
    ///   another edited path.
    init(paths: [FieldPath]) throws(EditorError) {
        count = paths.count
        for (k, path) in paths.enumerated() {
            var keys: [[UInt8]] = []
            for step in path.steps {
                guard case .key(let key) = step else {
                    throw EditorError(index: k, message: "'\(path)' must be a path of field names (no [index] or [*])")
                }
                keys.append(key)
            }
            var tree = root
            for (depth, key) in keys.enumerated() {
                let isLast = depth == keys.count - 1
                if let e = tree.entries.firstIndex(where: { $0.key == key }) {
                    if isLast || tree.entries[e].leaf != nil {
                        throw EditorError(index: k, message: "'\(path)' overlaps another field of this stage")
                    }
                    tree = tree.entries[e].subtree!
                } else if isLast {
                    tree.entries.append((key, k, nil))
                } else {
                    let child = Tree()
                    tree.entries.append((key, nil, child))
                    tree = child
                }
            }
        }
    }

    struct EditorError: Error {
        var index: Int
        var message: String
    }

    /// Writes the record at `root` with `actions` applied, as one NDJSON line.
    package func write(record root: Int, view: JSONView, actions: UnsafeBufferPointer<Action>, to writer: inout JSONWriter) {
        writeObject(root, tree: self.root, view: view, actions: actions, to: &writer)
    }

    private func writeObject(_ node: Int?, tree: Tree, view: JSONView, actions: UnsafeBufferPointer<Action>, to writer: inout JSONWriter) {
        writer.beginObject()
        // Entries met in the record: a bit set for the usual small tree, an array past
        // 64 entries (a `drop` of many columns), so that every entry is edited in place.
        var seen: UInt64 = 0
        var seenWide = tree.entries.count > 64 ? [Bool](repeating: false, count: tree.entries.count) : []
        func wasSeen(_ e: Int) -> Bool { e < 64 ? seen & (1 << e) != 0 : seenWide[e] }
        if let node, view.kind(node) == .object {
            for (keyNode, valueNode) in view.members(of: node) {
                guard let e = tree.entries.firstIndex(where: { view.stringEquals(keyNode, $0.key) }) else {
                    RecordEditor.copyMember(keyNode, valueNode, view: view, to: &writer)
                    continue
                }
                if e < 64 { seen |= 1 << e } else { seenWide[e] = true }
                let entry = tree.entries[e]
                if let leaf = entry.leaf {
                    switch actions[leaf] {
                    case .skip: RecordEditor.copyMember(keyNode, valueNode, view: view, to: &writer)
                    case .remove: break
                    case .value(let value):
                        RecordEditor.key(keyNode, view: view, to: &writer)
                        value.write(to: &writer, view: view)
                    case .raw(let json):
                        RecordEditor.key(keyNode, view: view, to: &writer)
                        writer.writeRaw(json)
                    }
                } else if let subtree = entry.subtree {
                    if view.kind(valueNode) == .object || writes(subtree, actions) {
                        RecordEditor.key(keyNode, view: view, to: &writer)
                        writeObject(view.kind(valueNode) == .object ? valueNode : nil, tree: subtree, view: view, actions: actions, to: &writer)
                    } else {
                        RecordEditor.copyMember(keyNode, valueNode, view: view, to: &writer)
                    }
                }
            }
        }
        for (e, entry) in tree.entries.enumerated() where !wasSeen(e) {
            if let leaf = entry.leaf {
                switch actions[leaf] {
                case .skip, .remove: break
                case .value(let value):
                    entry.key.withUnsafeBufferPointer { writer.key(utf8: $0) }
                    value.write(to: &writer, view: view)
                case .raw(let json):
                    entry.key.withUnsafeBufferPointer { writer.key(utf8: $0) }
                    writer.writeRaw(json)
                }
            } else if let subtree = entry.subtree, writes(subtree, actions) {
                entry.key.withUnsafeBufferPointer { writer.key(utf8: $0) }
                writeObject(nil, tree: subtree, view: view, actions: actions, to: &writer)
            }
        }
        writer.endObject()
    }

    /// Whether any action under `tree` adds something.
    private func writes(_ tree: Tree, _ actions: UnsafeBufferPointer<Action>) -> Bool {
        tree.entries.contains { entry in
            if let leaf = entry.leaf {
                switch actions[leaf] {
                case .value, .raw: return true
                case .skip, .remove: return false
                }
            }
            return writes(entry.subtree!, actions)
        }
    }

    static func key(_ keyNode: Int, view: JSONView, to writer: inout JSONWriter) {
        _ = ExpressionValue.node(keyNode).withStringBytes(in: view) { writer.key(utf8: $0) }
    }

    static func copyMember(_ keyNode: Int, _ valueNode: Int, view: JSONView, to writer: inout JSONWriter) {
        key(keyNode, view: view, to: &writer)
        writer.writeRaw(view.rawBytes(valueNode))
    }
}

extension Batch {
    /// Rewrites every record into a new buffer: `body` writes zero or more records for
    /// each input record (through `emit`) or fails it. Slots keep their source line and
    /// offset, and are no longer indexed (`tapeStart = -1`).
    ///
    /// - Complexity: O(bytes); one new buffer per batch.
    mutating func rewrite(context: StageContext, kind: ErrorKind = .transform,
                          _ body: (_ root: Int, _ view: JSONView, _ out: inout RecordOutput) -> RewriteOutcome) {
        let snapshot = Batch(file: file, index: index, bytes: bytes, tape: tape)
        var out = RecordOutput(writer: JSONWriter(capacity: bytes.count + bytes.count / 4))
        out.slots.reserveCapacity(records.count)
        var newErrors: [RecordError] = []
        var dropped = 0
        snapshot.withView { view in
            for slot in records {
                let root = Int(slot.tapeStart)
                guard root >= 0 else {
                    newErrors.append(context.recordError(kind, "record was not indexed before stage '\(context.stageName)'", batch: snapshot, slot: slot))
                    continue
                }
                out.source = slot
                let mark = (out.writer.bytes.count, out.slots.count)
                switch body(root, view, &out) {
                case .keep:
                    if out.slots.count == mark.1 { dropped += 1 }
                case .drop:
                    out.rollBack(to: mark)
                    dropped += 1
                case .fail(let kind, let message):
                    out.rollBack(to: mark)
                    newErrors.append(context.recordError(kind, message, batch: snapshot, slot: slot))
                }
            }
        }
        bytes = out.writer.bytes
        records = out.slots
        tape.removeAll(keepingCapacity: true)
        errors += newErrors
        filtered += dropped
    }
}

/// Where a rewriting stage writes its records.
struct RecordOutput {
    var writer: JSONWriter
    var slots: [RecordSlot] = []
    var source = RecordSlot(start: 0, end: 0, line: 0, offset: 0)

    init(writer: JSONWriter) {
        self.writer = writer
    }

    /// Ends the record begun at `start` (a byte count of `writer.bytes`).
    mutating func finish(from start: Int) {
        let end = writer.bytes.count
        writer.endRecord()
        slots.append(RecordSlot(start: start, end: end, line: source.line, offset: source.offset))
    }

    /// Keeps the source record's bytes unchanged.
    mutating func copy(_ view: JSONView, _ root: Int) {
        let start = writer.bytes.count
        writer.writeRaw(view.rawBytes(root))
        finish(from: start)
    }

    mutating func rollBack(to mark: (Int, Int)) {
        writer.bytes.removeSubrange(mark.0...)
        writer.endRecord()
        writer.bytes.removeLast()
        slots.removeSubrange(mark.1...)
    }
}

/// What a rewriting stage did with one record.
enum RewriteOutcome {
    /// Its output (zero or more records: zero counts as filtered) is written.
    case keep
    /// Dropped on purpose (filtered); anything written for it is discarded.
    case drop
    /// Failed; anything written for it is discarded.
    case fail(ErrorKind, String)
}
