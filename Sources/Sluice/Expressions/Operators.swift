import SluiceCore

/// `==`, `!=`, `<`, `<=`, `>`, `>=`.
final class CompareNode: Node, @unchecked Sendable {
    enum Operator: String {
        case equal = "==", notEqual = "!=", less = "<", lessEqual = "<=", greater = ">", greaterEqual = ">="
    }

    let op: Operator
    let left: Node
    let right: Node
    /// For `field == "text"` and `field != "text"` (either way round): the field, kept
    /// alive by `left` or `right`, and the literal's bytes, so that evaluating reads the field
    /// and compares bytes without building, copying and destroying two values (a retain
    /// and release of the literal's bytes per record; the bench's filter). Same result as
    /// ``Equality/equal(_:_:_:)``: a missing field, null, a bool, a number, an array or an
    /// object never equals a string.
    /// Unmanaged: reading an `unowned(unsafe)` reference made a strong copy (a retain and
    /// a release per record).
    private let textField: Unmanaged<PathNode>?
    private let literalBytes: UnsafeMutableBufferPointer<UInt8>

    init(op: Operator, left: Node, right: Node, text: String, column: Int) {
        self.op = op
        self.left = left
        self.right = right
        var field: PathNode?
        var literal: [UInt8] = []
        if op == .equal || op == .notEqual {
            for (a, b) in [(left, right), (right, left)] {
                if let path = a as? PathNode, !path.isWildcard, let constant = b as? LiteralNode, case .string(let bytes) = constant.value {
                    field = path
                    literal = bytes
                    break
                }
            }
        }
        textField = field.map { Unmanaged.passUnretained($0) }
        let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(literal.count, 1))
        _ = buffer.initialize(from: literal)
        literalBytes = UnsafeMutableBufferPointer(start: buffer.baseAddress, count: literal.count)
        super.init(text: text, column: column, staticType: .bool)
    }

    deinit { literalBytes.deallocate() }

    override var isConstant: Bool { left.isConstant && right.isConstant }

    /// Whether this is `field == "text"` or `field != "text"`: ``textComparison(_:)``
    /// then gives the result without ``evaluate(_:)``'s value plumbing.
    var isTextComparison: Bool { textField != nil }

    /// The result of a text comparison (``isTextComparison``) on the record, as
    /// ``evaluate(_:)`` gives it (`.bool` of this); never null, never an error.
    @inline(__always)
    func textComparison(_ context: EvaluationContext) -> Bool {
        guard let field = textField else { return false }
        let equal = field._withUnsafeGuaranteedRef { $0.resolve(context) }.map {
            context.view.stringEquals($0, UnsafeBufferPointer(literalBytes))
        } ?? false
        return equal == (op == .equal)
    }

    override func evaluate(_ context: EvaluationContext) throws(EvaluationError) -> ExpressionValue {
        if textField != nil { return .bool(textComparison(context)) }
        let l = try left.evaluate(context)
        let r = try right.evaluate(context)
        switch op {
        case .equal: return .bool(Equality.equal(l, r, context.view))
        case .notEqual: return .bool(!Equality.equal(l, r, context.view))
        default: break
        }
        if l == .null || r == .null { return .null }
        guard let order = try order(l, r, context.view) else { return .bool(false) }
        switch op {
        case .less: return .bool(order < 0)
        case .lessEqual: return .bool(order <= 0)
        case .greater: return .bool(order > 0)
        default: return .bool(order >= 0)
        }
    }

    /// -1, 0 or 1; nil when unordered (never, for finite numbers).
    private func order(_ l: ExpressionValue, _ r: ExpressionValue, _ view: JSONView) throws(EvaluationError) -> Int? {
        if let a = l.number(in: view), let b = r.number(in: view) {
            return Equality.compare(a, b)
        }
        if let order = l.withStringBytes(in: view, { a in r.withStringBytes(in: view) { b in Equality.compareBytes(a, b) } }),
           let order {
            return order
        }
        let lt = l.type(in: view).rawValue
        let rt = r.type(in: view).rawValue
        if lt == rt {
            throw EvaluationError("cannot order \(lt) values with '\(op.rawValue)' in '\(text)'")
        }
        throw EvaluationError("cannot compare \(lt) with \(rt) using '\(op.rawValue)' in '\(text)'")
    }
}

/// Value equality and ordering shared by the operators and functions.
enum Equality {
    /// Equality by value: numbers numerically (`1 == 1.0`), strings by unescaped bytes,
    /// arrays element-wise, objects by key set and values (member order ignored), and
    /// values of different types are unequal (`null == null` is true, `null == 0` false).
    static func equal(_ l: ExpressionValue, _ r: ExpressionValue, _ view: JSONView) -> Bool {
        switch (l, r) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.node(let i), .string(let s)), (.string(let s), .node(let i)):
            return view.stringEquals(i, s)
        case (.node(let i), .node(let j)):
            return nodesEqual(i, j, view)
        case (.string(let a), .string(let b)):
            return a == b
        case (.array, _), (_, .array):
            var left: [ExpressionValue] = []
            var right: [ExpressionValue] = []
            guard (try? l.forEachElement(in: view, { left.append($0) })) == true,
                  (try? r.forEachElement(in: view, { right.append($0) })) == true,
                  left.count == right.count else { return false }
            return zip(left, right).allSatisfy { equal($0, $1, view) }
        default:
            if let a = l.number(in: view), let b = r.number(in: view) { return compare(a, b) == 0 }
            return false
        }
    }

    private static func nodesEqual(_ i: Int, _ j: Int, _ view: JSONView) -> Bool {
        let a = view.tape[i]
        let b = view.tape[j]
        switch (a.kind, b.kind) {
        case (.null, .null), (.true, .true), (.false, .false): return true
        case (.number, .number):
            guard let x = view.number(i), let y = view.number(j) else { return false }
            return compare(x, y) == 0
        case (.string, .string):
            return ExpressionValue.node(i).withStringBytes(in: view) { view.stringEquals(j, $0) } ?? false
        case (.array, .array):
            guard a.count == b.count else { return false }
            for (x, y) in zip(view.elements(of: i), view.elements(of: j)) where !nodesEqual(x, y, view) { return false }
            return true
        case (.object, .object):
            guard a.count == b.count else { return false }
            for (key, value) in view.members(of: i) {
                let other = ExpressionValue.node(key).withStringBytes(in: view) { view.member(of: j, key: $0) } ?? nil
                guard let other, nodesEqual(value, other, view) else { return false }
            }
            return true
        default:
            return false
        }
    }

    /// Numeric order of two numbers, exact across int and double.
    static func compare(_ a: JSONNumber, _ b: JSONNumber) -> Int {
        switch (a, b) {
        case (.int(let x), .int(let y)): return x < y ? -1 : (x == y ? 0 : 1)
        case (.double(let x), .double(let y)): return x < y ? -1 : (x == y ? 0 : 1)
        case (.int(let x), .double(let y)): return compareIntDouble(x, y)
        case (.double(let x), .int(let y)): return -compareIntDouble(y, x)
        }
    }

    /// Compares without rounding the int through `Double` (2^53 + 1 vs 2^53 stays ordered).
    private static func compareIntDouble(_ i: Int64, _ d: Double) -> Int {
        if d.isNaN { return 1 }
        if d >= 9_223_372_036_854_775_808.0 { return -1 }
        if d < -9_223_372_036_854_775_808.0 { return 1 }
        let whole = d.rounded(.down)
        let w = Int64(whole)
        if i != w { return i < w ? -1 : 1 }
        return d > whole ? -1 : 0
    }

    /// Lexicographic order of byte strings (which is code point order for UTF-8).
    static func compareBytes(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Int {
        let n = min(a.count, b.count)
        for k in 0..<n where a[k] != b[k] {
            return a[k] < b[k] ? -1 : 1
        }
        return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
    }
}

/// `+`, `-`, `*`, `/`, `%`.
final class ArithmeticNode: Node, @unchecked Sendable {
    enum Operator: String {
        case add = "+", subtract = "-", multiply = "*", divide = "/", remainder = "%"
    }

    let op: Operator
    let left: Node
    let right: Node
    /// For a field and a number literal (`total * 100`, either way round): the field, kept
    /// alive by `left` or `right`, and the literal's number, so that evaluating reads the
    /// field's number and computes without two virtual calls and two `ExpressionValue`s.
    /// Any other case (a missing field, a string) takes the general path, which gives the
    /// same results and errors.
    private let numberField: Unmanaged<PathNode>?
    private let numberConstant: JSONNumber
    private let fieldIsLeft: Bool

    init(op: Operator, left: Node, right: Node, text: String, column: Int) {
        self.op = op
        self.left = left
        self.right = right
        var field: PathNode?
        var constant: JSONNumber?
        for (a, b) in [(left, right), (right, left)] {
            if let path = a as? PathNode, !path.isWildcard, let literal = b as? LiteralNode {
                switch literal.value {
                case .int(let v): constant = .int(v)
                case .double(let v): constant = .double(v)
                default: continue
                }
                field = path
                break
            }
        }
        numberField = field.map { Unmanaged.passUnretained($0) }
        numberConstant = constant ?? .int(0)
        fieldIsLeft = field != nil && field === left
        let type: StaticType = op == .add && (left.staticType == .string || right.staticType == .string) ? .string
            : (op == .add && left.staticType == .unknown && right.staticType == .unknown ? .unknown : .number)
        super.init(text: text, column: column, staticType: type)
    }

    override var isConstant: Bool { left.isConstant && right.isConstant }

    /// The field of a field-and-number-literal node, and the literal (see ``ScaledRound``).
    var numberFieldNode: PathNode? { numberField?.takeUnretainedValue() }
    var numberConstantValue: JSONNumber { numberConstant }

    /// The result when the node is a field and a number literal and the field holds a
    /// number; nil otherwise (the caller then takes ``evaluate(_:)``).
    @inline(__always)
    func fastNumber(_ context: EvaluationContext) throws(EvaluationError) -> JSONNumber? {
        guard let numberField,
              let node = numberField._withUnsafeGuaranteedRef({ $0.resolve(context) }),
              let field = context.view.number(node) else { return nil }
        return fieldIsLeft ? try compute(field, numberConstant) : try compute(numberConstant, field)
    }

    @inline(__always)
    private func compute(_ a: JSONNumber, _ b: JSONNumber) throws(EvaluationError) -> JSONNumber {
        switch (a, b) {
        case (.int(let x), .int(let y)):
            return try integer(x, y)
        default:
            return try real(a.doubleValue, b.doubleValue)
        }
    }

    override func evaluate(_ context: EvaluationContext) throws(EvaluationError) -> ExpressionValue {
        if let number = try fastNumber(context) { return number.value }
        let l = try left.evaluate(context)
        let r = try right.evaluate(context)
        let view = context.view
        guard let a = l.number(in: view), let b = r.number(in: view) else {
            if op == .add, l.isString(in: view), r.isString(in: view) {
                var joined: [UInt8] = []
                _ = l.withStringBytes(in: view) { joined.append(contentsOf: $0) }
                _ = r.withStringBytes(in: view) { joined.append(contentsOf: $0) }
                return .string(joined)
            }
            let types = "\(l.type(in: view).rawValue) and \(r.type(in: view).rawValue)"
            let needs = op == .add ? "two numbers or two strings" : "numbers"
            throw EvaluationError("'\(op.rawValue)' needs \(needs), got \(types) in '\(text)'")
        }
        return try compute(a, b).value
    }

    @inline(__always)
    private func integer(_ x: Int64, _ y: Int64) throws(EvaluationError) -> JSONNumber {
        let result: (partialValue: Int64, overflow: Bool)
        switch op {
        case .add: result = x.addingReportingOverflow(y)
        case .subtract: result = x.subtractingReportingOverflow(y)
        case .multiply: result = x.multipliedReportingOverflow(by: y)
        case .divide: return try real(Double(x), Double(y))
        case .remainder:
            guard y != 0 else { throw EvaluationError("division by zero in '\(text)'") }
            // Int64.min % -1 overflows in hardware but is 0 mathematically.
            return .int(y == -1 ? 0 : x % y)
        }
        if result.overflow { throw EvaluationError("integer overflow in '\(text)'") }
        return .int(result.partialValue)
    }

    @inline(__always)
    private func real(_ x: Double, _ y: Double) throws(EvaluationError) -> JSONNumber {
        let value: Double
        switch op {
        case .add: value = x + y
        case .subtract: value = x - y
        case .multiply: value = x * y
        case .divide:
            guard y != 0 else { throw EvaluationError("division by zero in '\(text)'") }
            value = x / y
        case .remainder:
            guard y != 0 else { throw EvaluationError("division by zero in '\(text)'") }
            value = x.truncatingRemainder(dividingBy: y)
        }
        guard value.isFinite else { throw EvaluationError("number out of range in '\(text)'") }
        return .double(value)
    }
}
