/// A function callable from expressions, as one row of ``all``.
///
/// A function receives its call node and evaluates the arguments itself, so functions
/// that need not evaluate every argument (a future `coalesce` or `if`) can skip some, and
/// a call allocates nothing. To add a function, add a row to ``all``: the compiler checks
/// names and argument counts against this table, and docs can be generated from it.
package struct ExpressionFunction: Sendable {
    /// The name used in expressions.
    let name: String
    /// How many arguments the function takes.
    let arity: ClosedRange<Int>
    /// The call as documented, e.g. `len(x)`.
    package let signature: String
    /// One-paragraph user documentation.
    package let summary: String
    /// What the compiler may assume about the result.
    let resultType: StaticType
    /// Argument types that are certainly wrong (checked at compile time when an argument's
    /// type is known).
    let rejectedArgumentTypes: [StaticType]
    /// Whether a call with constant arguments may be evaluated once at compile time
    /// (false for `now()`, whose value is the run's start).
    let isFoldable: Bool
    /// Whether only the first argument is always evaluated (`if`, `coalesce`): the others
    /// are compiled as lazily as the right side of `&&`.
    let isLazy: Bool
    /// Checks the arguments and prepares what the function needs once, at compile time
    /// (a compiled pattern); a thrown error is a config error (column 0: the call's).
    let prepare: (@Sendable (_ arguments: [Node]) throws(ExpressionError) -> AnyObject?)?
    let evaluate: @Sendable (_ call: CallNode, _ context: EvaluationContext) throws(EvaluationError) -> ExpressionValue

    init(name: String, arity: ClosedRange<Int>, signature: String, summary: String, resultType: StaticType,
         rejectedArgumentTypes: [StaticType], isFoldable: Bool = true, isLazy: Bool = false,
         prepare: (@Sendable (_ arguments: [Node]) throws(ExpressionError) -> AnyObject?)? = nil,
         evaluate: @escaping @Sendable (_ call: CallNode, _ context: EvaluationContext) throws(EvaluationError) -> ExpressionValue) {
        self.name = name
        self.arity = arity
        self.signature = signature
        self.summary = summary
        self.resultType = resultType
        self.rejectedArgumentTypes = rejectedArgumentTypes
        self.isFoldable = isFoldable
        self.isLazy = isLazy
        self.prepare = prepare
        self.evaluate = evaluate
    }

    static func named(_ name: String) -> ExpressionFunction? {
        all.first { $0.name == name }
    }

    /// Every function, in documentation order.
    package static let all: [ExpressionFunction] = core + logic + strings + numbers + conversions + times + collections

    static let core: [ExpressionFunction] = [
        ExpressionFunction(
            name: "len", arity: 1...1, signature: "len(x)",
            summary: """
                The length of a string in Unicode scalars (code points: "héllo" is 5, an emoji \
                made of several code points counts each), or the number of elements of an \
                array or members of an object. Any other value, null included, is an error.
                """,
            resultType: .number, rejectedArgumentTypes: [.null, .bool, .number],
            evaluate: { (call, context) throws(EvaluationError) in try call.evaluateLen(context) }),
        ExpressionFunction(
            name: "round", arity: 1...1, signature: "round(x)",
            summary: """
                The number rounded to the nearest integer, halves away from zero \
                (`round(2.5)` is 3, `round(-2.5)` is -3), as an int. A result beyond the \
                64-bit integer range, or an argument that is not a number (null included), \
                is an error.
                """,
            resultType: .number, rejectedArgumentTypes: [.null, .bool, .string],
            evaluate: { (call, context) throws(EvaluationError) in try call.evaluateRound(context) }),
    ]
}
