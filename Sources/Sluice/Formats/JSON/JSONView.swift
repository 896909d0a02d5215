/// A cheap read view over indexed JSON: a byte buffer and the tape that describes it.
///
/// Nodes are named by their tape index (an `Int`); a record's root is its slot's
/// `tapeStart`. Every accessor is O(1) unless stated, allocates nothing unless it returns
/// an owned value (`String`, ``JSONValue``), and returns nil when the node is not of the
/// kind asked for. The view holds unsafe pointers: use it only inside the closure that
/// produced it (``Batch/withView(_:)``).
///
/// ```swift
/// batch.withView { view in
///     let root = Int(batch.records[slot].tapeStart)
///     if let items = view.member(of: root, key: "items") { print(view.count(items)) }
/// }
/// ```
public struct JSONView {
    /// The buffer that tape offsets index.
    public let bytes: UnsafeBufferPointer<UInt8>
    /// The nodes.
    public let tape: UnsafeBufferPointer<TapeEntry>

    public init(bytes: UnsafeBufferPointer<UInt8>, tape: UnsafeBufferPointer<TapeEntry>) {
        self.bytes = bytes
        self.tape = tape
    }

    /// The kind of node `i`.
    @inline(__always)
    public func kind(_ i: Int) -> JSONKind { tape[i].kind }

    /// Members of an object, elements of an array; 0 for scalars.
    @inline(__always)
    public func count(_ i: Int) -> Int { Int(tape[i].count) }

    /// The tape index after node `i`'s whole subtree.
    @inline(__always)
    public func next(_ i: Int) -> Int { Int(tape[i].next) }

    /// The exact source bytes of node `i`'s subtree (a string includes its quotes), for
    /// byte-for-byte pass-through.
    @inline(__always)
    public func rawBytes(_ i: Int) -> UnsafeBufferPointer<UInt8> {
        let e = tape[i]
        return UnsafeBufferPointer(rebasing: bytes[Int(e.start)..<Int(e.end)])
    }

    /// `true` / `false`, or nil when node `i` is not a boolean.
    public func bool(_ i: Int) -> Bool? {
        switch tape[i].kind {
        case .true: return true
        case .false: return false
        default: return nil
        }
    }

    /// Whether node `i` is `null`.
    public func isNull(_ i: Int) -> Bool { tape[i].kind == .null }

    // MARK: Containers

    /// The value of the first member of object `i` whose key, unescaped, equals `key`
    /// byte for byte (no Unicode normalisation: `"é"` and `"e\u0301"` differ, `"\u00e9"`
    /// and `"é"` match). With duplicate keys the first wins.
    ///
    /// - Returns: The value's tape index, or nil when `i` is not an object or has no such key.
    /// - Complexity: O(members before the match).
    ///
    /// Inlinable: stages and expressions (another target) call it per field per record,
    /// and inlined into them it cost less than half as many instructions (callgrind).
    @inlinable @inline(__always)
    public func member(of i: Int, key: UnsafeBufferPointer<UInt8>) -> Int? {
        let object = tape[i]
        guard object.kind == .object else { return nil }
        var k = i + 1
        let end = Int(object.next)
        // A key without escapes can equal `key` only when written at its length plus the
        // quotes: most members are passed over on that one comparison.
        let written = key.count &+ 2
        while k < end {
            let e = tape[k]
            let value = k + 1
            if Int(e.end &- e.start) == written || e.flags & TapeEntry.hasEscapes != 0, stringEquals(k, key) { return value }
            k = Int(tape[value].next)
        }
        return nil
    }

    /// The value of the first member of object `i` named `key`, compared as its bytes.
    public func member(of i: Int, key: [UInt8]) -> Int? {
        key.withUnsafeBufferPointer { member(of: i, key: $0) }
    }

    /// The value of the first member of object `i` named `key`.
    public func member(of i: Int, key: String) -> Int? {
        var key = key
        return key.withUTF8 { member(of: i, key: $0) }
    }

    /// Follows a path of member names from node `i`; nil as soon as one is missing.
    public func member(of i: Int, path: [String]) -> Int? {
        var node = i
        for key in path {
            guard let found = member(of: node, key: key) else { return nil }
            node = found
        }
        return node
    }

    /// Element `index` of array `i`; a negative index counts from the end (-1 is the last).
    ///
    /// - Returns: The element's tape index, or nil when `i` is not an array or `index` is out of range.
    /// - Complexity: O(position of the element): elements are skipped subtree by subtree.
    public func element(of i: Int, at index: Int) -> Int? {
        let array = tape[i]
        guard array.kind == .array else { return nil }
        let count = Int(array.count)
        let position = index < 0 ? count + index : index
        guard position >= 0 && position < count else { return nil }
        var e = i + 1
        for _ in 0..<position { e = Int(tape[e].next) }
        return e
    }

    /// The elements of array `i` (nothing when `i` is not an array).
    public func elements(of i: Int) -> Elements {
        let e = tape[i]
        return e.kind == .array ? Elements(tape: tape, first: i + 1, end: Int(e.next)) : Elements(tape: tape, first: 0, end: 0)
    }

    /// The members of object `i` as `(key, value)` tape indices (nothing when `i` is not an object).
    public func members(of i: Int) -> Members {
        let e = tape[i]
        return e.kind == .object ? Members(tape: tape, first: i + 1, end: Int(e.next)) : Members(tape: tape, first: 0, end: 0)
    }

    /// The tape indices of an array's elements, in order.
    public struct Elements: Sequence, IteratorProtocol {
        let tape: UnsafeBufferPointer<TapeEntry>
        var first: Int
        let end: Int

        public mutating func next() -> Int? {
            guard first < end else { return nil }
            defer { first = Int(tape[first].next) }
            return first
        }
    }

    /// The tape indices of an object's keys and values, in source order.
    public struct Members: Sequence, IteratorProtocol {
        let tape: UnsafeBufferPointer<TapeEntry>
        var first: Int
        let end: Int

        public mutating func next() -> (key: Int, value: Int)? {
            guard first < end else { return nil }
            let key = first
            first = Int(tape[key + 1].next)
            return (key, key + 1)
        }
    }
}
