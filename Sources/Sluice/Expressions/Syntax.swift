import SluiceCore

/// A field path: `status`, `customer.id`, `items[0].sku`, `items[-1]`, `meta["odd key"]`.
///
/// Each step looks up an object member by key or an array element by index (negative
/// indices count from the end). A step into a value that is not an object (for a key)
/// or not an array (for an index), or that does not have the member or element, makes
/// the whole path *missing*, which expressions read as `null`.
public struct FieldPath: Sendable, Equatable, CustomStringConvertible {
    public enum Step: Sendable, Equatable {
        /// An object member, by its key's UTF-8 bytes.
        case key([UInt8])
        /// An array element; negative counts from the end (`-1` is the last).
        case index(Int)
        /// Every element of an array (`items[*].price`): the path's value is the array
        /// of what the rest of the path reads in each element.
        case all
    }

    /// Whether a step is `[*]`: the path reads many values, not one.
    public var hasWildcard: Bool { steps.contains(.all) }

    public var steps: [Step]

    public init(steps: [Step]) {
        self.steps = steps
    }

    /// The tape index of the path's value in the record at `root`, or nil when missing
    /// (always nil for a path with `[*]`).
    ///
    /// - Complexity: O(members and elements skipped); allocates nothing.
    @inline(__always)
    public func resolve(in view: JSONView, root: Int) -> Int? {
        var node = root
        for step in steps {
            switch step {
            case .key(let key):
                guard let found = view.member(of: node, key: key) else { return nil }
                node = found
            case .index(let index):
                guard let found = view.element(of: node, at: index) else { return nil }
                node = found
            case .all:
                return nil
            }
        }
        return node
    }

    /// Parses a field path (`customer.id`, `items[-1]`).
    ///
    /// - Throws: ``ExpressionError`` when `text` is not exactly one field path.
    public init(parsing text: String) throws(ExpressionError) {
        self = try Parser.parsePath(text)
    }

    /// The path as it would be written in an expression (`items[0].sku`).
    public var description: String {
        var text = ""
        for step in steps {
            switch step {
            case .key(let bytes):
                let key = String(decoding: bytes, as: UTF8.self)
                if FieldPath.isPlainName(key) {
                    if !text.isEmpty { text += "." }
                    text += key
                } else {
                    text += "[\"" + key.replacingBackslashesAndQuotes() + "\"]"
                }
            case .index(let index):
                text += "[\(index)]"
            case .all:
                text += "[*]"
            }
        }
        return text
    }

    /// Whether `name` can be written bare (`customer`) rather than as `["..."]`.
    static func isPlainName(_ name: String) -> Bool {
        func isLetter(_ c: Unicode.Scalar) -> Bool { c == "_" || ("a"..."z").contains(c) || ("A"..."Z").contains(c) }
        guard let first = name.unicodeScalars.first, isLetter(first) else { return false }
        return name.unicodeScalars.allSatisfy { isLetter($0) || ("0"..."9").contains($0) }
            && !["null", "true", "false"].contains(name)
    }
}

extension String {
    fileprivate func replacingBackslashesAndQuotes() -> String {
        var out = ""
        for c in unicodeScalars {
            if c == "\\" || c == "\"" { out.unicodeScalars.append("\\") }
            out.unicodeScalars.append(c)
        }
        return out
    }
}

/// A constant written in an expression.
enum Literal: Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string([UInt8])
}

/// The parsed form of an expression, before compilation; every node knows its columns.
struct Syntax: Equatable {
    indirect enum Kind: Equatable {
        case literal(Literal)
        case path(FieldPath)
        case unary(Token.Symbol, Syntax)
        case binary(Token.Symbol, Syntax, Syntax)
        case call(name: String, arguments: [Syntax])
        /// `[a, b, ...]`.
        case array([Syntax])
        /// `value in list`.
        case membership(Syntax, Syntax)
    }

    var kind: Kind
    /// 1-based column of the node's first scalar.
    var column: Int
    /// Column one past the node's last scalar.
    var endColumn: Int
    /// Levels of nodes from this one down to its deepest leaf (a leaf is 1): how deep the
    /// compiler and the evaluator recurse, which ``Parser`` bounds.
    let height: Int

    init(kind: Kind, column: Int, endColumn: Int) {
        self.kind = kind
        self.column = column
        self.endColumn = endColumn
        switch kind {
        case .literal, .path:
            height = 1
        case .unary(_, let operand):
            height = operand.height + 1
        case .binary(_, let left, let right), .membership(let left, let right):
            height = Swift.max(left.height, right.height) + 1
        case .call(_, let items), .array(let items):
            height = (items.map(\.height).max() ?? 0) + 1
        }
    }
}
