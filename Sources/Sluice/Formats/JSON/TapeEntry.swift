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
///
/// Sixteen bytes: `start`, `end`, `next` and one word holding the kind (top 3 bits) and,
/// below it, a container's count or a scalar's flags (a node never needs both). Every
/// stage re-reads a batch's tape (~600 KB on the NDJSON bench, more than L1 holds), so
/// the four bytes saved per node are memory traffic saved on every pass (bench/RESULTS.md,
/// 2026-12-01 wave 6: cachegrind and wall side by side with the 20-byte layout).
///
/// A count has 29 bits: up to 536,870,911 elements or members, which no text of at most
/// 1 GiB (the largest `max_record_bytes`, and ``JSONIndexer/maxTextBytes``) can exceed.
public struct TapeEntry: Sendable, Equatable {
    /// Offset of the node's first byte (the quote of a string, the `{` of an object).
    public var start: UInt32
    /// Offset one past the node's last byte (past the closing quote or bracket).
    public var end: UInt32
    /// Tape index of the node after this whole subtree (self + 1 for scalars).
    public var next: UInt32
    /// `kind.rawValue << 29 | payload`: the payload is `count` for a container, `flags`
    /// for a scalar.
    package var tag: UInt32

    /// The largest `count` a node holds.
    public static let maxCount = UInt32(1 << 29 - 1)

    @inline(__always)
    package static func tag(_ kind: JSONKind) -> UInt32 { UInt32(kind.rawValue) &<< 29 }

    public var kind: JSONKind {
        @inline(__always) get { unsafeBitCast(UInt8(truncatingIfNeeded: tag &>> 29), to: JSONKind.self) }
        @inline(__always) set { tag = TapeEntry.tag(newValue) | tag & TapeEntry.maxCount }
    }

    /// Whether this node is an array or an object (its payload is a count).
    @inline(__always)
    package var isContainer: Bool { tag >= TapeEntry.tag(.array) }

    /// `.string`: bit 0 set when the string contains a backslash escape.
    /// `.number`: bit 0 set when the number is an integer literal (no `.`, `e` or `E`).
    /// Containers: 0.
    public var flags: UInt8 {
        @inline(__always) get { isContainer ? 0 : UInt8(truncatingIfNeeded: tag) }
        @inline(__always) set { if !isContainer { tag = tag & ~TapeEntry.maxCount | UInt32(newValue) } }
    }

    /// `.array`: element count; `.object`: member count; otherwise 0. Values above
    /// ``maxCount`` keep their low 29 bits.
    public var count: UInt32 {
        @inline(__always) get { isContainer ? tag & TapeEntry.maxCount : 0 }
        @inline(__always) set { if isContainer { tag = tag & ~TapeEntry.maxCount | newValue & TapeEntry.maxCount } }
    }

    public init(kind: JSONKind, flags: UInt8 = 0, count: UInt32 = 0, start: UInt32, end: UInt32, next: UInt32) {
        self.start = start
        self.end = end
        self.next = next
        self.tag = TapeEntry.tag(kind) | (kind.rawValue >= JSONKind.array.rawValue ? count & TapeEntry.maxCount : UInt32(flags))
    }

    /// A node from its four words, as the parser writes it.
    @inline(__always)
    package init(start: UInt32, end: UInt32, next: UInt32, tag: UInt32) {
        self.start = start
        self.end = end
        self.next = next
        self.tag = tag
    }

    public static let hasEscapes: UInt8 = 1
    public static let isInteger: UInt8 = 1
}
