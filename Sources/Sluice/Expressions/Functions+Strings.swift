import Foundation
import SluiceCore

/// Holds a regular expression compiled at config load. `NSRegularExpression` is
/// immutable and documented as safe to use from several threads at once.
final class RegexPayload: @unchecked Sendable {
    let regex: NSRegularExpression
    init(_ regex: NSRegularExpression) { self.regex = regex }
}

extension ExpressionFunction {
    static let logic: [ExpressionFunction] = [
        ExpressionFunction(
            name: "if", arity: 3...3, signature: "if(condition, then, else)",
            summary: """
                `then` when the condition is true, `else` when it is false or null. Only the \
                branch chosen is evaluated. A condition that is not a bool is an error.
                """,
            resultType: .unknown, rejectedArgumentTypes: [], isLazy: true,
            evaluate: { (call, context) throws(EvaluationError) in
                switch try call.value(0, context) {
                case .bool(true): return try call.value(1, context)
                case .bool(false), .null: return try call.value(2, context)
                case let other: throw call.failure("needs a bool condition, got \(other.type(in: context.view).rawValue)")
                }
            }),
        ExpressionFunction(
            name: "coalesce", arity: 1...64, signature: "coalesce(a, b, ...)",
            summary: """
                The first argument that is not null (a missing field is null), or null when \
                all are. Arguments after the first non-null one are not evaluated.
                """,
            resultType: .unknown, rejectedArgumentTypes: [], isLazy: true,
            evaluate: { (call, context) throws(EvaluationError) in
                for k in call.arguments.indices {
                    let value = try call.value(k, context)
                    if value != .null { return value }
                }
                return .null
            }),
        ExpressionFunction(
            name: "exists", arity: 1...1, signature: "exists(path)",
            summary: """
                True when the field is present in the record, even with the value null; \
                false when it is missing. The argument must be a field path.
                """,
            resultType: .bool, rejectedArgumentTypes: [],
            prepare: { (arguments) throws(ExpressionError) in
                guard let path = arguments[0] as? PathNode, !path.isWildcard else {
                    throw argumentError("needs a field path such as 'customer.id'", arguments[0])
                }
                return nil
            },
            evaluate: { (call, context) throws(EvaluationError) in
                .bool(unsafeDowncast(call.arguments[0], to: PathNode.self).resolve(context) != nil)
            }),
    ]

    static let strings: [ExpressionFunction] = [
        mapString("lower", "The string in lower case (Unicode-aware: \"ÉTÉ\" becomes \"été\").") { $0.lowercased() },
        mapString("upper", "The string in upper case (Unicode-aware).") { $0.uppercased() },
        mapString("trim", "The string without leading and trailing white space (Unicode white space and newlines).") {
            $0.trimmingCharacters(in: .whitespacesAndNewlines)
        },
        ExpressionFunction(
            name: "contains", arity: 2...2, signature: "contains(haystack, needle)",
            summary: """
                For two strings: whether `needle` occurs in `haystack`. For an array: whether \
                an element equals `needle` (as `==`). Anything else is an error.
                """,
            resultType: .bool, rejectedArgumentTypes: [.null, .bool, .number],
            evaluate: { (call, context) throws(EvaluationError) in
                let haystack = try call.value(0, context)
                let needle = try call.value(1, context)
                let view = context.view
                var found = false
                if try haystack.forEachElement(in: view, { if Equality.equal($0, needle, view) { found = true } }) {
                    return .bool(found)
                }
                let result = haystack.withStringBytes(in: view) { h in
                    needle.withStringBytes(in: view) { n in bytesFind(n, in: h) != nil }
                }
                guard let result, let result else {
                    throw call.failure("needs a string or an array and a string, got \(haystack.type(in: view).rawValue) and \(needle.type(in: view).rawValue)")
                }
                return .bool(result)
            }),
        bytePredicate("starts_with", "Whether the string begins with the prefix.") { s, p in
            s.count >= p.count && Equality.compareBytes(UnsafeBufferPointer(rebasing: s[0..<p.count]), p) == 0
        },
        bytePredicate("ends_with", "Whether the string ends with the suffix.") { s, p in
            s.count >= p.count && Equality.compareBytes(UnsafeBufferPointer(rebasing: s[(s.count - p.count)...]), p) == 0
        },
        ExpressionFunction(
            name: "replace", arity: 3...3, signature: "replace(s, old, new)",
            summary: "`s` with every occurrence of the string `old` replaced by `new` (plain text, not a pattern). An empty `old` is an error.",
            resultType: .string, rejectedArgumentTypes: [.null, .bool, .number, .array],
            evaluate: { (call, context) throws(EvaluationError) in
                let s = try call.string(0, context), old = try call.string(1, context), new = try call.string(2, context)
                guard !old.isEmpty else { throw call.failure("needs a non-empty string to replace") }
                return .string(bytesSplit(s, by: old).joined(separator: new).map { $0 })
            }),
        ExpressionFunction(
            name: "split", arity: 2...2, signature: "split(s, separator)",
            summary: "The array of the parts of `s` between occurrences of `separator` (`split(\"a,b\", \",\")` is `[\"a\", \"b\"]`; `split(\"\", \",\")` is `[\"\"]`). An empty separator is an error.",
            resultType: .array, rejectedArgumentTypes: [.null, .bool, .number, .array],
            evaluate: { (call, context) throws(EvaluationError) in
                let s = try call.string(0, context), separator = try call.string(1, context)
                guard !separator.isEmpty else { throw call.failure("needs a non-empty separator") }
                return .array(bytesSplit(s, by: separator).map { .string($0) })
            }),
        ExpressionFunction(
            name: "join", arity: 2...2, signature: "join(array, separator)",
            summary: "The strings of the array joined with `separator`. Null elements are skipped; any other element that is not a string is an error.",
            resultType: .string, rejectedArgumentTypes: [.null, .bool, .number],
            evaluate: { (call, context) throws(EvaluationError) in
                let list = try call.value(0, context)
                let separator = try call.string(1, context)
                let view = context.view
                var out: [UInt8] = []
                var first = true
                var bad: ValueType?
                let isArray = try list.forEachElement(in: view) { (element: ExpressionValue) throws(EvaluationError) -> Void in
                    if element == .null { return }
                    let appended: Bool? = element.withStringBytes(in: view) { bytes in
                        if !first { out.append(contentsOf: separator) }
                        out.append(contentsOf: bytes)
                        return true
                    }
                    if appended == nil { bad = element.type(in: view) } else { first = false }
                }
                guard isArray else { throw call.failure("needs an array, got \(list.type(in: view).rawValue)") }
                if let bad { throw call.failure("needs an array of strings, found \(bad.rawValue)") }
                return .string(out)
            }),
        ExpressionFunction(
            name: "substr", arity: 2...3, signature: "substr(s, start, length)",
            summary: """
                Part of the string, counted in Unicode scalars: from `start` (0-based; a \
                negative start counts from the end) for `length` scalars, or to the end \
                without `length`. Bounds past either end are clamped, so the result may be \
                empty. A negative length is an error.
                """,
            resultType: .string, rejectedArgumentTypes: [.null, .bool, .array],
            evaluate: { (call, context) throws(EvaluationError) in
                let scalars = Array(String(decoding: try call.string(0, context), as: UTF8.self).unicodeScalars)
                var start = Int(clamping: try call.integer(1, context))
                if start < 0 { start = max(0, scalars.count + start) }
                start = min(start, scalars.count)
                var end = scalars.count
                if call.arguments.count == 3 {
                    let length = try call.integer(2, context)
                    guard length >= 0 else { throw call.failure("needs a length of 0 or more, got \(length)") }
                    end = min(scalars.count, start + Int(clamping: min(length, Int64(Int32.max))))
                }
                var out = String.UnicodeScalarView()
                out.append(contentsOf: scalars[start..<end])
                return .string(Array(String(out).utf8))
            }),
        ExpressionFunction(
            name: "matches", arity: 2...2, signature: "matches(s, pattern)",
            summary: """
                Whether the regular expression `pattern` (ICU syntax, as Foundation's \
                NSRegularExpression) matches somewhere in `s`; anchor it with `^...$` to \
                match the whole string. The pattern must be a string literal: it is compiled \
                once when the config loads, and a bad pattern is a config error.
                """,
            resultType: .bool, rejectedArgumentTypes: [.null, .bool, .number, .array],
            prepare: { (arguments) throws(ExpressionError) in
                let pattern = try constantString(arguments[1], what: "the pattern")
                do {
                    return RegexPayload(try NSRegularExpression(pattern: pattern))
                } catch {
                    throw argumentError("invalid regular expression '\(pattern)'", arguments[1])
                }
            },
            evaluate: { (call, context) throws(EvaluationError) in
                let regex = unsafeDowncast(call.payload!, to: RegexPayload.self).regex
                let s = String(decoding: try call.string(0, context), as: UTF8.self)
                return .bool(regex.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil)
            }),
    ]

    /// A one-string function that maps through `String`.
    private static func mapString(_ name: String, _ summary: String, _ transform: @escaping @Sendable (String) -> String) -> ExpressionFunction {
        ExpressionFunction(
            name: name, arity: 1...1, signature: "\(name)(s)", summary: summary + " Any value that is not a string, null included, is an error.",
            resultType: .string, rejectedArgumentTypes: [.null, .bool, .number, .array],
            evaluate: { (call, context) throws(EvaluationError) in
                .string(Array(transform(String(decoding: try call.string(0, context), as: UTF8.self)).utf8))
            })
    }

    /// A two-string predicate evaluated in place (no allocation for unescaped strings).
    private static func bytePredicate(_ name: String, _ summary: String,
                                      _ test: @escaping @Sendable (UnsafeBufferPointer<UInt8>, UnsafeBufferPointer<UInt8>) -> Bool) -> ExpressionFunction {
        ExpressionFunction(
            name: name, arity: 2...2, signature: "\(name)(s, \(name == "starts_with" ? "prefix" : "suffix"))",
            summary: summary + " Both must be strings; anything else, null included, is an error.",
            resultType: .bool, rejectedArgumentTypes: [.null, .bool, .number, .array],
            evaluate: { (call, context) throws(EvaluationError) in
                let s = try call.value(0, context), p = try call.value(1, context)
                let view = context.view
                guard let result = s.withStringBytes(in: view, { a in p.withStringBytes(in: view) { b in test(a, b) } }), let result else {
                    throw call.failure("needs two strings, got \(s.type(in: view).rawValue) and \(p.type(in: view).rawValue)")
                }
                return .bool(result)
            })
    }
}

/// The first index of `needle` in `haystack`.
func bytesFind(_ needle: UnsafeBufferPointer<UInt8>, in haystack: UnsafeBufferPointer<UInt8>, from start: Int = 0) -> Int? {
    if needle.isEmpty { return start }
    guard haystack.count >= needle.count else { return nil }
    var i = start
    while i + needle.count <= haystack.count {
        if haystack[i] == needle[0] && memoryEquals(haystack.baseAddress! + i, needle.baseAddress!, needle.count) { return i }
        i += 1
    }
    return nil
}

/// `s` cut at every occurrence of the non-empty `separator`.
func bytesSplit(_ s: [UInt8], by separator: [UInt8]) -> [[UInt8]] {
    s.withUnsafeBufferPointer { h in
        separator.withUnsafeBufferPointer { n in
            var parts: [[UInt8]] = []
            var start = 0
            while let found = bytesFind(n, in: h, from: start) {
                parts.append(Array(h[start..<found]))
                start = found + n.count
            }
            parts.append(Array(h[start...]))
            return parts
        }
    }
}
