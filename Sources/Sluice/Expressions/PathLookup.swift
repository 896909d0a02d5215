import SluiceCore

/// A ``FieldPath`` laid out for lookup on the hot path.
///
/// `FieldPath.steps` holds one array per key; walking it retains and releases each key
/// for every record, which measured as ~40% of select's time. This copy keeps all keys in
/// one buffer and the steps as plain values, allocated once and freed with the object, so
/// a lookup touches no reference counts. Immutable after init, hence `Sendable`.
package final class PathLookup: @unchecked Sendable {
    private struct Step {
        /// Key bytes in `keys`, or `index` when `keyCount < 0`.
        var keyStart: Int
        var keyCount: Int
        var index: Int
    }

    let path: FieldPath
    /// The path's slot in the stage's ``FieldSet`` (the builder passed to init), or -1.
    let slot: Int
    private let steps: UnsafeMutableBufferPointer<Step>
    private let keys: UnsafeMutableBufferPointer<UInt8>
    /// The key's length when the path is one key (`status`), looked up with one inlined
    /// `member` call; -1 otherwise.
    private let singleKeyCount: Int

    /// - Parameter fields: the stage's builder; a path of keys gets a slot in it, read by
    ///   ``resolve(in:root:resolved:)`` from the slots its ``FieldSet`` resolved.
    init(_ path: FieldPath, fields: FieldSetBuilder? = nil) {
        self.path = path
        slot = fields?.slot(for: path) ?? -1
        var keyBytes: [UInt8] = []
        var flat: [Step] = []
        for step in path.steps {
            switch step {
            case .key(let key):
                flat.append(Step(keyStart: keyBytes.count, keyCount: key.count, index: 0))
                keyBytes.append(contentsOf: key)
            case .index(let index):
                flat.append(Step(keyStart: 0, keyCount: -1, index: index))
            case .all:
                flat.append(Step(keyStart: 0, keyCount: -2, index: 0))
            }
        }
        singleKeyCount = flat.count == 1 && flat[0].keyCount >= 0 ? flat[0].keyCount : -1
        steps = .allocate(capacity: flat.count)
        _ = steps.initialize(from: flat)
        keys = .allocate(capacity: max(keyBytes.count, 1))
        _ = keys.initialize(from: keyBytes)
    }

    deinit {
        steps.deallocate()
        keys.deallocate()
    }

    /// The tape index of the path's value in the record at `root`, or nil when missing.
    @inline(__always)
    func resolve(in view: JSONView, root: Int) -> Int? {
        if singleKeyCount >= 0 {
            return view.member(of: root, key: UnsafeBufferPointer(start: keys.baseAddress!, count: singleKeyCount))
        }
        var node = root
        for step in UnsafeBufferPointer(steps) {
            if step.keyCount >= 0 {
                let key = UnsafeBufferPointer(start: keys.baseAddress! + step.keyStart, count: step.keyCount)
                guard let found = view.member(of: node, key: key) else { return nil }
                node = found
            } else if step.keyCount == -1 {
                guard let found = view.element(of: node, at: step.index) else { return nil }
                node = found
            } else {
                return nil
            }
        }
        return node
    }

    /// The same, read from `resolved` (the slots of the builder's ``FieldSet``, resolved
    /// for this record) when the path has a slot there.
    @inline(__always)
    func resolve(in view: JSONView, root: Int, resolved: UnsafePointer<Int>?) -> Int? {
        if slot >= 0, let resolved {
            let node = resolved[slot]
            return node >= 0 ? node : nil
        }
        return resolve(in: view, root: root)
    }

    /// For a path with `[*]`: calls `body` with the tape index of each value the path
    /// reads (nil for an element where the rest of the path is missing), in order.
    ///
    /// - Returns: false when the path is missing before its first `[*]` (or a `[*]`
    ///   meets something that is not an array): the whole value is then missing.
    /// - Complexity: allocates nothing.
    @discardableResult
    func forEach(in view: JSONView, root: Int, _ body: (Int?) throws(EvaluationError) -> Void) throws(EvaluationError) -> Bool {
        try visit(view, node: root, from: 0, body)
    }

    private func visit(_ view: JSONView, node start: Int, from first: Int, _ body: (Int?) throws(EvaluationError) -> Void) throws(EvaluationError) -> Bool {
        var node = start
        var k = first
        while k < steps.count {
            let step = steps[k]
            if step.keyCount >= 0 {
                let key = UnsafeBufferPointer(start: keys.baseAddress! + step.keyStart, count: step.keyCount)
                guard let found = view.member(of: node, key: key) else { return false }
                node = found
            } else if step.keyCount == -1 {
                guard let found = view.element(of: node, at: step.index) else { return false }
                node = found
            } else {
                guard view.kind(node) == .array else { return false }
                for element in view.elements(of: node) {
                    if k + 1 == steps.count {
                        try body(element)
                    } else if !(try visit(view, node: element, from: k + 1, body)) {
                        try body(nil)
                    }
                }
                return true
            }
            k += 1
        }
        try body(node)
        return true
    }
}
