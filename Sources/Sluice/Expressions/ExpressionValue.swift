import SluiceCore

/// The value of an expression, or of a sub-expression, on one record.
///
/// Values read from the record stay on its tape (``node(_:)``) until an operator needs
/// their content, so reading and comparing fields allocates nothing and a value that is
/// written out unchanged keeps its exact source bytes (`1e400`, 20-digit integers).
public enum ExpressionValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    /// Always finite: arithmetic that would produce infinity or NaN is an error.
    case double(Double)
    /// A number, string, array or object node of the record being evaluated.
    case node(Int)
    /// A string computed by the expression, as UTF-8.
    case string([UInt8])
    /// An array computed by the expression (a literal `[1, 2]`, `split(...)`,
    /// `items[*].price`); its elements may be nodes of the record.
    indirect case array([ExpressionValue])
}

/// What an expression is evaluated against: one record of an indexed batch.
struct EvaluationContext {
    let view: JSONView
    /// Tape index of the record's root node.
    let root: Int
    /// What `now()` returns: the run's start, in seconds since 1970 (UTC), so that
    /// every record of a run sees the same instant and output is reproducible.
    var now: Double = 0
    /// The record's slots, resolved by the ``FieldSet`` of the builder the expression was
    /// compiled with (see ``CompiledExpression/init(_:fields:)``), or nil: paths are then
    /// looked up one by one.
    var resolved: UnsafePointer<Int>? = nil
}

/// The kind of a value as error messages name it.
package enum ValueType: String, Sendable {
    case null, bool, int, double, string, array, object
}

extension ExpressionValue {
    package func type(in view: JSONView) -> ValueType {
        switch self {
        case .null: return .null
        case .bool: return .bool
        case .int: return .int
        case .double: return .double
        case .string: return .string
        case .array: return .array
        case .node(let i): return ValueType(node: i, in: view)
        }
    }

    /// The number this value holds, or nil when it is not a number.
    @inline(__always)
    package func number(in view: JSONView) -> JSONNumber? {
        switch self {
        case .int(let v): return .int(v)
        case .double(let v): return .double(v)
        case .node(let i): return view.number(i)
        default: return nil
        }
    }

    /// Whether this value is a string (on the tape or computed).
    func isString(in view: JSONView) -> Bool {
        switch self {
        case .string: return true
        case .node(let i): return view.kind(i) == .string
        default: return false
        }
    }

    /// Calls `body` with this string's unescaped UTF-8 bytes; nil when it is not a string.
    ///
    /// Allocates only for a tape string that contains escapes.
    func withStringBytes<R>(in view: JSONView, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R? {
        switch self {
        case .string(let bytes):
            return bytes.withUnsafeBufferPointer(body)
        case .node(let i):
            let entry = view.tape[i]
            guard entry.kind == .string else { return nil }
            if entry.flags & TapeEntry.hasEscapes == 0 {
                return body(UnsafeBufferPointer(rebasing: view.bytes[Int(entry.start) + 1..<Int(entry.end) - 1]))
            }
            return view.unescaped(i).withUnsafeBufferPointer(body)
        default:
            return nil
        }
    }
}

extension ValueType {
    init(node i: Int, in view: JSONView) {
        let entry = view.tape[i]
        switch entry.kind {
        case .null: self = .null
        case .true, .false: self = .bool
        case .number: self = entry.flags & TapeEntry.isInteger != 0 ? .int : .double
        case .string: self = .string
        case .array: self = .array
        case .object: self = .object
        }
    }
}
