/// A JSON number decoded for arithmetic.
///
/// An integer literal that fits is ``int(_:)``; anything else (a fraction, an exponent,
/// an integer beyond 64 bits, `-0`) is ``double(_:)``, which may be infinite (`1e400`).
/// To carry such a number through unchanged, copy its source bytes
/// (``JSONView/rawBytes(_:)``) instead of converting it.
public enum JSONNumber: Sendable, Equatable {
    case int(Int64)
    case double(Double)

    /// The value as a `Double` (an `Int64` beyond 2^53 is rounded).
    public var doubleValue: Double {
        switch self {
        case .int(let v): return Double(v)
        case .double(let v): return v
        }
    }
}
