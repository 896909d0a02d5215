import SluiceCore

extension CallNode {
    /// A record error naming the function and quoting the call.
    package func failure(_ message: String) -> EvaluationError {
        EvaluationError("\(function.name)() \(message) in '\(text)'")
    }

    @inline(__always)
    func value(_ k: Int, _ context: EvaluationContext) throws(EvaluationError) -> ExpressionValue {
        try arguments[k].evaluate(context)
    }

    /// Argument `k` as a string's bytes; any other value (null included) is an error.
    func string(_ k: Int, _ context: EvaluationContext) throws(EvaluationError) -> [UInt8] {
        let value = try arguments[k].evaluate(context)
        if case .string(let bytes) = value { return bytes }
        guard let bytes = value.withStringBytes(in: context.view, { Array($0) }) else {
            throw failure("needs a string, got \(value.type(in: context.view).rawValue)")
        }
        return bytes
    }

    /// Argument `k` as a number; any other value (null included) is an error.
    package func number(_ k: Int, _ context: EvaluationContext) throws(EvaluationError) -> JSONNumber {
        let value = try arguments[k].evaluate(context)
        guard let number = value.number(in: context.view) else {
            throw failure("needs a number, got \(value.type(in: context.view).rawValue)")
        }
        return number
    }

    /// Argument `k` as an int; any other value is an error.
    func integer(_ k: Int, _ context: EvaluationContext) throws(EvaluationError) -> Int64 {
        guard case .int(let v) = try number(k, context) else { throw failure("needs an integer argument \(k + 1)") }
        return v
    }
}

/// Why a compile-time check on an argument failed; column 0 means "the call".
func argumentError(_ message: String, _ node: Node? = nil) -> ExpressionError {
    ExpressionError(message, column: node?.column ?? 0)
}

/// The constant string an argument must be (a pattern, a format), checked at compile time.
func constantString(_ node: Node, what: String) throws(ExpressionError) -> String {
    guard let literal = node as? LiteralNode, case .string(let bytes) = literal.value else {
        throw argumentError("\(what) must be a string literal, so that it is checked once when the config loads", node)
    }
    return String(decoding: bytes, as: UTF8.self)
}

extension JSONNumber {
    /// The number as an `ExpressionValue`.
    var value: ExpressionValue {
        switch self {
        case .int(let v): return .int(v)
        case .double(let v): return .double(v)
        }
    }
}

/// A double as an int, or nil when it is not finite or beyond the 64-bit range.
package func int64(exactly d: Double) -> Int64? {
    guard d.isFinite, d >= -9_223_372_036_854_775_808.0, d < 9_223_372_036_854_775_808.0 else { return nil }
    return Int64(d)
}
