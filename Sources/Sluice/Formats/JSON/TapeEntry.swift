/// The kind of one JSON node on a tape.
public enum JSONKind: UInt8, Sendable {
    case null = 0
    case `false` = 1
    case `true` = 2
    case number = 3
    case string = 4
    case array = 5
    case object = 6
}

/// One node of a parsed JSON value, laid out flat (a "tape", as in simdjson).
///
/// Nodes are written in document order. A container's members follow it directly;
/// an object's members alternate key (a `.string` node) and value (a subtree).
/// `next` lets a reader skip a whole subtree in O(1).
///
/// All byte offsets index the owning ``Batch/bytes`` buffer.
public struct TapeEntry: Sendable, Equatable {
    public var kind: JSONKind
    /// `.string`: bit 0 set when the string contains a backslash escape.
    /// `.number`: bit 0 set when the number is an integer literal (no `.`, `e` or `E`).
    public var flags: UInt8
    /// `.array`: element count; `.object`: member count; otherwise 0.
    public var count: UInt32
    /// Offset of the node's first byte (the quote of a string, the `{` of an object).
    public var start: UInt32
    /// Offset one past the node's last byte (past the closing quote or bracket).
    public var end: UInt32
    /// Tape index of the node after this whole subtree (self + 1 for scalars).
    public var next: UInt32

    public init(kind: JSONKind, flags: UInt8 = 0, count: UInt32 = 0, start: UInt32, end: UInt32, next: UInt32) {
        self.kind = kind
        self.flags = flags
        self.count = count
        self.start = start
        self.end = end
        self.next = next
    }

    public static let hasEscapes: UInt8 = 1
    public static let isInteger: UInt8 = 1
}
