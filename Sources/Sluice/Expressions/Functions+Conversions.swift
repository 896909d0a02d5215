import SluiceCore

extension ExpressionFunction {
    static let conversions: [ExpressionFunction] = [
        ExpressionFunction(
            name: "int", arity: 1...1, signature: "int(x)",
            summary: """
                `x` as an int: ints unchanged; doubles truncated toward zero; strings holding \
                a number (`"42"`, `"-7"`, `"3.9"`) parsed then truncated; `true`/`false` as 1/0; \
                null stays null. A string that is not a number, a value beyond 64 bits, or an \
                array or object is a record error (kind `transform`), never a silent 0.
                """,
            resultType: .unknown, rejectedArgumentTypes: [.array],
            evaluate: { (call, context) throws(EvaluationError) in
                let value = try call.value(0, context)
                switch try numeric(value, call, context) {
                case nil: return .null
                case .int(let v)?: return .int(v)
                case .double(let d)?:
                    guard let i = int64(exactly: d.rounded(.towardZero)) else { throw call.failure("value \(d) is beyond the 64-bit integer range") }
                    return .int(i)
                }
            }),
        ExpressionFunction(
            name: "float", arity: 1...1, signature: "float(x)",
            summary: """
                `x` as a double: numbers converted, strings holding a number parsed, \
                `true`/`false` as 1.0/0.0, null stays null. A string that is not a finite \
                number, or an array or object, is a record error (kind `transform`).
                """,
            resultType: .unknown, rejectedArgumentTypes: [.array],
            evaluate: { (call, context) throws(EvaluationError) in
                let value = try call.value(0, context)
                guard let n = try numeric(value, call, context) else { return .null }
                // A field written 1e400 reads as infinity, which JSON cannot hold.
                guard n.doubleValue.isFinite else { throw call.failure("number out of range") }
                return .double(n.doubleValue)
            }),
        ExpressionFunction(
            name: "string", arity: 1...1, signature: "string(x)",
            summary: """
                `x` as a string: strings unchanged; numbers, bools, arrays and objects as \
                their JSON text (a field's number keeps its source text: `string(1e3)` of a \
                field written `1e3` is `"1e3"`); null stays null.
                """,
            resultType: .unknown, rejectedArgumentTypes: [],
            evaluate: { (call, context) throws(EvaluationError) in
                let value = try call.value(0, context)
                if value == .null || value.isString(in: context.view) { return value }
                return .string(value.jsonText(in: context.view))
            }),
        ExpressionFunction(
            name: "bool", arity: 1...1, signature: "bool(x)",
            summary: """
                `x` as a bool: bools unchanged; the strings `"true"`/`"false"` (any case) and \
                `"1"`/`"0"`; the numbers 1 and 0; null stays null. Anything else is a record \
                error (kind `transform`).
                """,
            resultType: .unknown, rejectedArgumentTypes: [.array],
            evaluate: { (call, context) throws(EvaluationError) in
                let value = try call.value(0, context)
                let view = context.view
                switch value {
                case .null, .bool: return value
                default: break
                }
                if let n = value.number(in: view) {
                    if Equality.compare(n, .int(0)) == 0 { return .bool(false) }
                    if Equality.compare(n, .int(1)) == 0 { return .bool(true) }
                    throw call.failure("cannot convert the number \(n.doubleValue) to a bool (only 0 and 1)")
                }
                if let text = value.withStringBytes(in: view, { String(decoding: $0, as: UTF8.self) }) {
                    switch text.lowercased() {
                    case "true", "1": return .bool(true)
                    case "false", "0": return .bool(false)
                    default: throw call.failure("cannot convert \"\(text.prefix(64))\" to a bool")
                    }
                }
                throw call.failure("cannot convert \(value.type(in: view).withArticle) to a bool")
            }),
    ]

    /// The number a conversion reads from `value`; nil for null.
    private static func numeric(_ value: ExpressionValue, _ call: CallNode, _ context: EvaluationContext) throws(EvaluationError) -> JSONNumber? {
        let view = context.view
        switch value {
        case .null: return nil
        case .bool(let b): return .int(b ? 1 : 0)
        default: break
        }
        if let n = value.number(in: view) { return n }
        if let text = value.withStringBytes(in: view, { String(decoding: $0, as: UTF8.self) }) {
            if let i = Int64(text) { return .int(i) }
            // Only plain decimal notation: no "nan", "inf", hex or surrounding space.
            if let d = Double(text), d.isFinite, text.unicodeScalars.allSatisfy({ "0123456789+-.eE".unicodeScalars.contains($0) }) {
                return .double(d)
            }
            throw call.failure("cannot convert \"\(text.prefix(64))\" to a number")
        }
        throw call.failure("cannot convert \(value.type(in: view).withArticle) to a number")
    }
}
