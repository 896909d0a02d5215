/// A JSON value materialised out of a tape, or built by a stage.
///
/// Object members keep their source order and duplicates (lookups through
/// ``subscript(_:)`` return the first). ``raw(_:)`` holds valid JSON text carried through
/// unchanged; ``JSONView/materialize(_:)`` uses it for numbers that `Int64` / `Double`
/// cannot hold exactly (`123456789012345678901234567890`, `1e400`), so writing the value
/// back reproduces them byte for byte.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([JSONMember])
    /// Valid JSON text, written as is.
    case raw([UInt8])

    /// The value of the first member named `key`, when this is an object that has one.
    public subscript(_ key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }
}

/// One member of a ``JSONValue/object(_:)``: a key and its value.
public struct JSONMember: Sendable, Equatable {
    public var key: String
    public var value: JSONValue

    public init(_ key: String, _ value: JSONValue) {
        self.key = key
        self.value = value
    }
}
