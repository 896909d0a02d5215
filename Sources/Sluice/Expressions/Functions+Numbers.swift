import SluiceCore

extension ExpressionFunction {
    static let numbers: [ExpressionFunction] = [
        rounding("floor", "The largest integer not above the number, as an int.", .down),
        rounding("ceil", "The smallest integer not below the number, as an int.", .up),
        ExpressionFunction(
            name: "abs", arity: 1...1, signature: "abs(x)",
            summary: "The absolute value, of the same type (int or double). `abs` of the smallest 64-bit integer, or of anything but a number, is an error.",
            resultType: .number, rejectedArgumentTypes: [.null, .bool, .string, .array],
            evaluate: { (call, context) throws(EvaluationError) in
                switch try call.number(0, context) {
                case .int(let v):
                    guard v != .min else { throw call.failure("overflows") }
                    return .int(v < 0 ? -v : v)
                case .double(let v):
                    // A field written -1e400 reads as -infinity, which JSON cannot hold.
                    guard v.isFinite else { throw call.failure("number out of range") }
                    return .double(Swift.abs(v))
                }
            }),
        extremum("min", "The smallest", -1),
        extremum("max", "The largest", 1),
    ]

    private static func rounding(_ name: String, _ summary: String, _ rule: FloatingPointRoundingRule) -> ExpressionFunction {
        ExpressionFunction(
            name: name, arity: 1...1, signature: "\(name)(x)",
            summary: summary + " A result beyond the 64-bit integer range, or an argument that is not a number (null included), is an error.",
            resultType: .number, rejectedArgumentTypes: [.null, .bool, .string, .array],
            evaluate: { (call, context) throws(EvaluationError) in
                switch try call.number(0, context) {
                case .int(let v): return .int(v)
                case .double(let v):
                    guard let i = int64(exactly: v.rounded(rule)) else { throw call.failure("result is beyond the 64-bit integer range") }
                    return .int(i)
                }
            })
    }

    private static func extremum(_ name: String, _ what: String, _ sign: Int) -> ExpressionFunction {
        ExpressionFunction(
            name: name, arity: 1...64, signature: "\(name)(a, b, ...)",
            summary: """
                \(what) of its number arguments, or of the elements of one array argument \
                (`\(name)(items[*].price)`), unchanged (an int stays an int). Null elements \
                of an array are skipped; an empty array gives null. Any other value is an error.
                """,
            resultType: .unknown, rejectedArgumentTypes: [.null, .bool, .string],
            evaluate: { (call, context) throws(EvaluationError) in
                let view = context.view
                var best: (value: ExpressionValue, number: JSONNumber)?
                func consider(_ value: ExpressionValue) throws(EvaluationError) {
                    guard let n = value.number(in: view) else {
                        throw call.failure("needs numbers, got \(value.type(in: view).rawValue)")
                    }
                    if best == nil || Equality.compare(n, best!.number) == sign { best = (value, n) }
                }
                if call.arguments.count == 1 {
                    let list = try call.value(0, context)
                    let isArray = try list.forEachElement(in: view) { (element) throws(EvaluationError) in
                        if element != .null { try consider(element) }
                    }
                    if !isArray { try consider(list) }
                } else {
                    for k in call.arguments.indices { try consider(try call.value(k, context)) }
                }
                return best?.value ?? .null
            })
    }

    static let collections: [ExpressionFunction] = [
        ExpressionFunction(
            name: "sum", arity: 1...1, signature: "sum(array)",
            summary: """
                The sum of the numbers of an array (`sum(items[*].price)`), skipping nulls; \
                0 for an empty array. Ints sum to an int (overflow is an error), any double \
                makes it a double. A missing array is null; an element that is not a number is an error.
                """,
            resultType: .unknown, rejectedArgumentTypes: [.bool, .number, .string],
            evaluate: { (call, context) throws(EvaluationError) in
                let view = context.view
                var total = NumberSum()
                func add(_ value: ExpressionValue) throws(EvaluationError) {
                    if value == .null { return }
                    guard let n = value.number(in: view) else {
                        throw call.failure("needs an array of numbers, found \(value.type(in: view).rawValue)")
                    }
                    guard total.add(n) else { throw call.failure("integer overflow") }
                }
                if let path = call.arguments[0] as? PathNode, path.isWildcard {
                    let found = try path.lookup.forEach(in: view, root: context.root) { (node: Int?) throws(EvaluationError) in
                        if let node { try add(PathNode.value(of: node, view)) }
                    }
                    if !found { return .null }
                } else {
                    let list = try call.value(0, context)
                    if list == .null { return .null }
                    guard try list.forEachElement(in: view, { (v: ExpressionValue) throws(EvaluationError) in try add(v) }) else {
                        throw call.failure("needs an array, got \(list.type(in: view).rawValue)")
                    }
                }
                guard let result = total.value else { throw call.failure("result is out of range") }
                return result
            }),
        ExpressionFunction(
            name: "count", arity: 1...1, signature: "count(array)",
            summary: """
                The number of elements of an array that are not null \
                (`count(items[*].sku)` counts items that have a sku; `len` counts all elements). \
                A missing array is null; any other value is an error.
                """,
            resultType: .unknown, rejectedArgumentTypes: [.bool, .number, .string],
            evaluate: { (call, context) throws(EvaluationError) in
                let view = context.view
                var count: Int64 = 0
                if let path = call.arguments[0] as? PathNode, path.isWildcard {
                    let found = try path.lookup.forEach(in: view, root: context.root) { (node: Int?) throws(EvaluationError) in
                        if let node, view.kind(node) != .null { count += 1 }
                    }
                    return found ? .int(count) : .null
                }
                let list = try call.value(0, context)
                if list == .null { return .null }
                guard try list.forEachElement(in: view, { if $0 != .null { count += 1 } }) else {
                    throw call.failure("needs an array, got \(list.type(in: view).rawValue)")
                }
                return .int(count)
            }),
        ExpressionFunction(
            name: "hash", arity: 1...1, signature: "hash(x)",
            summary: """
                A stable 64-bit hash as 16 lowercase hex digits: XXH64 (seed 0) of a string's \
                UTF-8 bytes, or of the JSON text of any other value (a field's exact source \
                text). The same input gives the same hash on every machine and run. Null is an error.
                """,
            resultType: .string, rejectedArgumentTypes: [.null],
            evaluate: { (call, context) throws(EvaluationError) in
                let value = try call.value(0, context)
                let view = context.view
                if value == .null { throw call.failure("needs a value, got null") }
                if let h = value.withStringBytes(in: view, { XXHash64.hash($0) }) { return .string(XXHash64.hex(h)) }
                if case .node(let i) = value { return .string(XXHash64.hex(XXHash64.hash(view.rawBytes(i)))) }
                return .string(XXHash64.hex(XXHash64.hash(value.jsonText(in: view))))
            }),
    ]
}

/// A running sum that stays an int until a double joins it.
struct NumberSum {
    private var intSum: Int64 = 0
    private var doubleSum = 0.0
    private var isDouble = false

    /// Adds `n`; false on integer overflow.
    mutating func add(_ n: JSONNumber) -> Bool {
        switch n {
        case .int(let v):
            if isDouble {
                doubleSum += Double(v)
                return true
            }
            let (s, overflow) = intSum.addingReportingOverflow(v)
            intSum = s
            return !overflow
        case .double(let v):
            if !isDouble {
                isDouble = true
                doubleSum = Double(intSum)
            }
            doubleSum += v
            return true
        }
    }

    /// The sum; nil when it is not finite.
    var value: ExpressionValue? {
        guard isDouble else { return .int(intSum) }
        return doubleSum.isFinite ? .double(doubleSum) : nil
    }
}
