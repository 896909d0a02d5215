import SluiceCore

/// Turns nested objects into top-level keys joined by `separator`:
/// `{"a":{"b":1,"c":{"d":2}},"e":3}` → `{"a.b":1,"a.c.d":2,"e":3}`.
///
/// Arrays are kept as values by default (`arrays: keep`); `arrays: index` flattens them
/// too, by element index (`{"items":[{"sku":"A"}]}` → `{"items.0.sku":"A"}`). An empty
/// object or array has no keys to spread and is kept as `{}` or `[]`, so that
/// `unflatten` restores it. Values are copied byte for byte; members keep their order.
///
/// Two paths that flatten to the same key (`{"a.b":1,"a":{"b":2}}`) fail the record
/// (kind `transform`) rather than write a duplicate key.
///
/// ```yaml
/// - name: flat
///   flatten: { separator: ".", arrays: keep }
/// ```
public struct FlattenStage: Stage {
    /// Configuration of `flatten`.
    public struct Config: Sendable, Equatable {
        /// Joins the keys of a path (default `.`); must not be empty.
        public var separator: String
        /// `keep` (default) or `index`.
        public var arrays: String

        public init(separator: String = Keys.separator.defaultValue!, arrays: String = Keys.arrays.defaultValue!) {
            self.separator = separator
            self.arrays = arrays
        }
    }

    public static let kind = "flatten"
    static let arrayModes = ["keep", "index"]

    let separator: [UInt8]
    let indexArrays: Bool

    /// - Throws: ``StageConfigError`` for an empty separator or an unknown `arrays` mode.
    public static func make(config: Config) throws(StageConfigError) -> FlattenStage {
        var problems: [StageConfigProblem] = []
        if config.separator.isEmpty { problems.append(StageConfigProblem(keyPath: [kind, "separator"], message: "must not be empty")) }
        if !arrayModes.contains(config.arrays) {
            problems.append(StageConfigProblem(keyPath: [kind, "arrays"], message: "'\(config.arrays)' is not one of keep, index"))
        }
        guard problems.isEmpty else { throw StageConfigError(problems: problems) }
        return FlattenStage(separator: Array(config.separator.utf8), indexArrays: config.arrays == "index")
    }

    public func process(_ batch: inout Batch, context: StageContext) {
        var prefix: [UInt8] = []
        var keys = Set<[UInt8]>()
        batch.rewrite(context: context) { root, view, out in
            let start = out.writer.bytes.count
            var mayCollide = false
            out.writer.beginObject()
            prefix.removeAll(keepingCapacity: true)
            spread(root, view: view, prefix: &prefix, isRoot: true, writer: &out.writer, mayCollide: &mayCollide, keys: nil)
            out.writer.endObject()
            if mayCollide {
                // Only a key holding (part of) the separator can make two paths meet; check then.
                keys.removeAll(keepingCapacity: true)
                var scratch = JSONWriter()
                var ignored = false
                if let duplicate = withUnsafeMutablePointer(to: &keys, { set in
                    spread(root, view: view, prefix: &prefix, isRoot: true, writer: &scratch, mayCollide: &ignored, keys: set)
                }) {
                    return .fail(.transform, "flatten: two fields flatten to the same key '\(String(decoding: duplicate, as: UTF8.self))'")
                }
            }
            out.finish(from: start)
            return .keep
        }
    }

    /// Writes the members under object or array `node` as flat keys after `prefix`.
    /// With `keys`, also collects every key written and returns the first repeated one.
    @discardableResult
    private func spread(_ node: Int, view: JSONView, prefix: inout [UInt8], isRoot: Bool, writer: inout JSONWriter,
                        mayCollide: inout Bool, keys: UnsafeMutablePointer<Set<[UInt8]>>?) -> [UInt8]? {
        let mark = prefix.count
        func child(_ value: Int) -> [UInt8]? {
            let kind = view.kind(value)
            if (kind == .object || (kind == .array && indexArrays)) && view.count(value) > 0 {
                return spread(value, view: view, prefix: &prefix, isRoot: false, writer: &writer, mayCollide: &mayCollide, keys: keys)
            }
            prefix.withUnsafeBufferPointer { writer.key(utf8: $0) }
            writer.writeRaw(view.rawBytes(value))
            if let keys, !keys.pointee.insert(prefix).inserted { return prefix }
            return nil
        }
        if view.kind(node) == .array {
            for (i, element) in view.elements(of: node).enumerated() {
                prefix += separator
                prefix += Array(String(i).utf8)
                if let duplicate = child(element) { return duplicate }
                prefix.removeSubrange(mark...)
            }
            return nil
        }
        for (key, value) in view.members(of: node) {
            if !isRoot { prefix += separator }
            let keyStart = prefix.count
            _ = ExpressionValue.node(key).withStringBytes(in: view) { prefix.append(contentsOf: $0) }
            if !mayCollide && Self.mayJoin(prefix[keyStart...], separator) { mayCollide = true }
            if let duplicate = child(value) { return duplicate }
            prefix.removeSubrange(mark...)
        }
        return nil
    }

    /// Whether `key` could make two paths flatten alike: it holds the separator, or (for a
    /// separator of several bytes) begins or ends with part of it, as `_id` and `a_` do
    /// with `__` (`a` + `__` + `_id` and `a_` + `__` + `id` are both `a___id`).
    static func mayJoin(_ key: ArraySlice<UInt8>, _ separator: [UInt8]) -> Bool {
        if contains(key, separator) { return true }
        guard separator.count > 1, let first = key.first, let last = key.last else { return false }
        return separator.contains(first) || separator.contains(last)
    }

    static func contains(_ haystack: ArraySlice<UInt8>, _ needle: [UInt8]) -> Bool {
        guard haystack.count >= needle.count else { return false }
        var i = haystack.startIndex
        while i + needle.count <= haystack.endIndex {
            if haystack[i..<i + needle.count].elementsEqual(needle) { return true }
            i += 1
        }
        return false
    }
}
