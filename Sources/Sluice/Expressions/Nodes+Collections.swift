import SluiceCore

/// `[a, b, ...]`: an array built from its elements' values.
final class ArrayNode: Node, @unchecked Sendable {
    let elements: [Node]

    init(elements: [Node], text: String, column: Int) {
        self.elements = elements
        super.init(text: text, column: column, staticType: .array)
    }

    override func evaluate(_ context: EvaluationContext) throws(EvaluationError) -> ExpressionValue {
        var values: [ExpressionValue] = []
        values.reserveCapacity(elements.count)
        for element in elements { values.append(try element.evaluate(context)) }
        return .array(values)
    }

    override var isConstant: Bool { elements.allSatisfy(\.isConstant) }
}

/// `x in list`: whether `list` (an array) has an element equal to `x` (by `==`).
///
/// `x in null` (a missing list) is null, like an ordering with null; a list that is not an
/// array is an error. A constant list (`status in ["paid", "shipped"]`) is folded once at
/// compile time, so the test allocates nothing per record.
final class MembershipNode: Node, @unchecked Sendable {
    let element: Node
    let list: Node

    init(element: Node, list: Node, text: String, column: Int) {
        self.element = element
        self.list = list
        super.init(text: text, column: column, staticType: .bool)
    }

    override func evaluate(_ context: EvaluationContext) throws(EvaluationError) -> ExpressionValue {
        let x = try element.evaluate(context)
        let view = context.view
        switch try list.evaluate(context) {
        case .array(let values):
            for value in values where Equality.equal(x, value, view) { return .bool(true) }
            return .bool(false)
        case .node(let i) where view.kind(i) == .array:
            for e in view.elements(of: i) where Equality.equal(x, PathNode.value(of: e, view), view) { return .bool(true) }
            return .bool(false)
        case .null:
            return .null
        case let other:
            throw EvaluationError("'in' needs an array on its right, got \(other.type(in: view).rawValue) in '\(text)'")
        }
    }

    override var isConstant: Bool { element.isConstant && list.isConstant }
}

extension ExpressionValue {
    /// Calls `body` with each element when this value is an array (computed or on the
    /// tape); returns false when it is not an array.
    func forEachElement(in view: JSONView, _ body: (ExpressionValue) throws(EvaluationError) -> Void) throws(EvaluationError) -> Bool {
        switch self {
        case .array(let values):
            for value in values { try body(value) }
            return true
        case .node(let i) where view.kind(i) == .array:
            for e in view.elements(of: i) { try body(PathNode.value(of: e, view)) }
            return true
        default:
            return false
        }
    }

    /// Writes the value as JSON: record values as their exact source bytes, computed ones
    /// as the writer formats them.
    package func write(to writer: inout JSONWriter, view: JSONView) {
        switch self {
        case .null: writer.writeNull()
        case .bool(let b): writer.write(b)
        case .int(let i): writer.write(i)
        case .double(let d): writer.write(d)
        case .node(let i): writer.writeRaw(view.rawBytes(i))
        case .string(let s): s.withUnsafeBufferPointer { writer.writeString(utf8: $0) }
        case .array(let values):
            writer.beginArray()
            for value in values { value.write(to: &writer, view: view) }
            writer.endArray()
        }
    }

    /// The value's JSON text (for `string()` of non-strings and for `hash`).
    func jsonText(in view: JSONView) -> [UInt8] {
        var writer = JSONWriter(capacity: 32)
        write(to: &writer, view: view)
        return writer.bytes
    }
}
