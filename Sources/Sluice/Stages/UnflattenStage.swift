import SluiceCore

/// The reverse of `flatten`: splits every top-level key at `separator` and nests the
/// values, `{"a.b":1,"a.c.d":2,"e":3}` → `{"a":{"b":1,"c":{"d":2}},"e":3}`.
///
/// Only top-level keys are split; values (objects included) are copied byte for byte.
/// Objects appear in the order of their first key. With `arrays: index`, an object whose
/// keys are exactly `0`, `1`, … in that order becomes an array (the reverse of `flatten`
/// with `arrays: index`); by default (`keep`) numeric keys stay object keys.
///
/// A key that is both a value and a parent (`{"a":1,"a.b":2}`), or a key that repeats,
/// fails the record (kind `transform`).
///
/// ```yaml
/// - name: nest
///   unflatten: { separator: "." }
/// ```
public struct UnflattenStage: Stage {
    /// Configuration of `unflatten`.
    public struct Config: Sendable, Equatable {
        /// Splits keys into paths (default `.`); must not be empty.
        public var separator: String
        /// `keep` (default) or `index`.
        public var arrays: String

        public init(separator: String = Keys.separator.defaultValue!, arrays: String = Keys.arrays.defaultValue!) {
            self.separator = separator
            self.arrays = arrays
        }
    }

    public static let kind = "unflatten"

    let separator: [UInt8]
    let makeArrays: Bool

    /// - Throws: ``StageConfigError`` for an empty separator or an unknown `arrays` mode.
    public static func make(config: Config) throws(StageConfigError) -> UnflattenStage {
        var problems: [StageConfigProblem] = []
        if config.separator.isEmpty { problems.append(StageConfigProblem(keyPath: [kind, "separator"], message: "must not be empty")) }
        if !FlattenStage.arrayModes.contains(config.arrays) {
            problems.append(StageConfigProblem(keyPath: [kind, "arrays"], message: "'\(config.arrays)' is not one of keep, index"))
        }
        guard problems.isEmpty else { throw StageConfigError(problems: problems) }
        return UnflattenStage(separator: Array(config.separator.utf8), makeArrays: config.arrays == "index")
    }

    /// A key of the output: a value (a tape node) or an object of further keys.
    private final class Node {
        var value: Int?
        var children: [(key: [UInt8], node: Node)] = []
    }

    public func process(_ batch: inout Batch, context: StageContext) {
        batch.rewrite(context: context) { root, view, out in
            let tree = Node()
            for (key, value) in view.members(of: root) {
                let text = ExpressionValue.node(key).withStringBytes(in: view) { Array($0) } ?? []
                var node = tree
                for segment in split(text) {
                    if node.value != nil { return conflict(text) }
                    if let existing = node.children.first(where: { $0.key == segment }) {
                        node = existing.node
                    } else {
                        let child = Node()
                        node.children.append((segment, child))
                        node = child
                    }
                }
                if node.value != nil || !node.children.isEmpty { return conflict(text) }
                node.value = value
            }
            let start = out.writer.bytes.count
            write(tree, view: view, to: &out.writer, isRoot: true)
            out.finish(from: start)
            return .keep
        }
    }

    private func conflict(_ key: [UInt8]) -> RewriteOutcome {
        .fail(.transform, "unflatten: key '\(String(decoding: key, as: UTF8.self))' clashes with another key (a value and a parent, or twice)")
    }

    /// `key` cut at every separator.
    private func split(_ key: [UInt8]) -> [[UInt8]] {
        var parts: [[UInt8]] = []
        var start = 0
        var i = 0
        while i + separator.count <= key.count {
            if key[i..<i + separator.count].elementsEqual(separator) {
                parts.append(Array(key[start..<i]))
                i += separator.count
                start = i
            } else {
                i += 1
            }
        }
        parts.append(Array(key[start...]))
        return parts
    }

    private func write(_ node: Node, view: JSONView, to writer: inout JSONWriter, isRoot: Bool = false) {
        if let value = node.value {
            writer.writeRaw(view.rawBytes(value))
            return
        }
        let isArray = makeArrays && !isRoot && node.children.enumerated().allSatisfy { $1.key == Array(String($0).utf8) }
        if isArray {
            writer.beginArray()
            for (_, child) in node.children { write(child, view: view, to: &writer) }
            writer.endArray()
        } else {
            writer.beginObject()
            for (key, child) in node.children {
                key.withUnsafeBufferPointer { writer.key(utf8: $0) }
                write(child, view: view, to: &writer)
            }
            writer.endObject()
        }
    }
}
