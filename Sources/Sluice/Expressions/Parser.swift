/// Turns tokens into a ``Syntax`` tree.
///
/// Grammar, loosest binding first:
/// ```
/// or         := and ("||" and)*
/// and        := equality ("&&" equality)*
/// equality   := comparison (("==" | "!=") comparison)?     -- not chainable
/// comparison := additive (("<" | "<=" | ">" | ">=" | "in") additive)?  -- not chainable
/// additive   := term (("+" | "-") term)*
/// term       := unary (("*" | "/" | "%") unary)*
/// unary      := ("!" | "-") unary | primary
/// primary    := literal | "(" or ")" | "[" (or ("," or)*)? "]" | name "(" arguments? ")" | path
/// path       := name ("." name | "[" "-"? integer "]" | "[" string "]" | "[" "*" "]")*
/// ```
///
/// Nesting is bounded: more than ``maxNesting`` open parentheses, brackets, calls or unary
/// operators, or a tree more than ``maxNesting`` nodes deep (`a + a + … + a` nests to the
/// left), is a compile error — the parser, the compiler and the evaluator all recurse, and
/// an expression from a config must not be able to overflow a thread's stack.
struct Parser {
    /// The deepest nesting an expression may have; real ones stay far below it.
    static let maxNesting = 256

    private var tokens: [Token]
    private var position = 0
    /// Parentheses, brackets, calls and unary operators open around `position`.
    private var depth = 0

    private init(tokens: [Token]) {
        self.tokens = tokens
    }

    /// Parses a whole expression.
    static func parse(_ source: String) throws(ExpressionError) -> Syntax {
        var parser = Parser(tokens: try Lexer.tokenize(source))
        if parser.current.kind == .end {
            throw ExpressionError("empty expression", column: 1)
        }
        let syntax = try parser.parseOr()
        try parser.expectEnd()
        return syntax
    }

    /// Parses text that must be a field path and nothing else (validate's field names).
    static func parsePath(_ source: String) throws(ExpressionError) -> FieldPath {
        var parser = Parser(tokens: try Lexer.tokenize(source))
        guard case .name(let name) = parser.current.kind else {
            if parser.current.kind == .end { throw ExpressionError("empty field path", column: 1) }
            throw ExpressionError("expected a field name, found \(parser.current.display)", column: parser.current.column)
        }
        parser.position += 1
        let path = try parser.parsePathSteps(first: name)
        try parser.expectEnd()
        return path
    }

    private var current: Token { tokens[position] }

    /// A syntax node, refused when it makes the tree deeper than ``maxNesting``.
    private func node(kind: Syntax.Kind, column: Int, endColumn: Int) throws(ExpressionError) -> Syntax {
        let syntax = Syntax(kind: kind, column: column, endColumn: endColumn)
        guard syntax.height <= Parser.maxNesting else {
            throw ExpressionError("expression nested deeper than \(Parser.maxNesting) levels", column: column,
                                  hint: "split it, or use 'x in [a, b, c]' instead of a long chain of '||'")
        }
        return syntax
    }

    /// Opens one level of nesting at `token`; the caller closes it with `depth -= 1`.
    private mutating func descend(at token: Token) throws(ExpressionError) {
        depth += 1
        guard depth <= Parser.maxNesting else {
            throw ExpressionError("expression nested deeper than \(Parser.maxNesting) levels", column: token.column)
        }
    }

    private mutating func advance() -> Token {
        let token = tokens[position]
        if position < tokens.count - 1 { position += 1 }
        return token
    }

    private func isSymbol(_ symbol: Token.Symbol) -> Bool {
        current.kind == .symbol(symbol)
    }

    private mutating func expectEnd() throws(ExpressionError) {
        guard current.kind == .end else {
            throw ExpressionError("unexpected \(current.display)", column: current.column,
                                  hint: ExpressionHints.operatorHint(for: current, after: position > 0 ? tokens[position - 1] : nil))
        }
    }

    private mutating func parseOr() throws(ExpressionError) -> Syntax {
        var left = try parseAnd()
        while isSymbol(.or) {
            _ = advance()
            let right = try parseAnd()
            left = try node(kind: .binary(.or, left, right), column: left.column, endColumn: right.endColumn)
        }
        return left
    }

    private mutating func parseAnd() throws(ExpressionError) -> Syntax {
        var left = try parseEquality()
        while isSymbol(.and) {
            _ = advance()
            let right = try parseEquality()
            left = try node(kind: .binary(.and, left, right), column: left.column, endColumn: right.endColumn)
        }
        return left
    }

    private mutating func parseEquality() throws(ExpressionError) -> Syntax {
        try parseNonChaining([.equal, .notEqual]) { (p: inout Parser) throws(ExpressionError) in try p.parseComparison() }
    }

    private mutating func parseComparison() throws(ExpressionError) -> Syntax {
        let left = try parseNonChaining([.less, .lessEqual, .greater, .greaterEqual]) { (p: inout Parser) throws(ExpressionError) in try p.parseAdditive() }
        // `in` is a word, not a symbol, so a field may still be called `in` (`x.in`, `["in"]`).
        guard current.kind == .name("in") else { return left }
        _ = advance()
        let right = try parseAdditive()
        if current.kind == .name("in") {
            throw ExpressionError("'in' cannot be chained", column: current.column, hint: "use parentheses")
        }
        return try node(kind: .membership(left, right), column: left.column, endColumn: right.endColumn)
    }

    /// `a == b == c` reads as a mistake in a filter; make the user say what they mean.
    private mutating func parseNonChaining(
        _ symbols: [Token.Symbol], operand: (inout Parser) throws(ExpressionError) -> Syntax
    ) throws(ExpressionError) -> Syntax {
        let left = try operand(&self)
        guard case .symbol(let symbol) = current.kind, symbols.contains(symbol) else { return left }
        _ = advance()
        let right = try operand(&self)
        if case .symbol(let next) = current.kind, Parser.comparisonSymbols.contains(next) {
            throw ExpressionError("comparisons cannot be chained", column: current.column,
                                  hint: "use parentheses or '&&'")
        }
        return try node(kind: .binary(symbol, left, right), column: left.column, endColumn: right.endColumn)
    }

    private static let comparisonSymbols: [Token.Symbol] = [.equal, .notEqual, .less, .lessEqual, .greater, .greaterEqual]

    private mutating func parseAdditive() throws(ExpressionError) -> Syntax {
        var left = try parseTerm()
        while case .symbol(let symbol) = current.kind, symbol == .plus || symbol == .minus {
            _ = advance()
            let right = try parseTerm()
            left = try node(kind: .binary(symbol, left, right), column: left.column, endColumn: right.endColumn)
        }
        return left
    }

    private mutating func parseTerm() throws(ExpressionError) -> Syntax {
        var left = try parseUnary()
        while case .symbol(let symbol) = current.kind, symbol == .times || symbol == .divide || symbol == .remainder {
            _ = advance()
            let right = try parseUnary()
            left = try node(kind: .binary(symbol, left, right), column: left.column, endColumn: right.endColumn)
        }
        return left
    }

    private mutating func parseUnary() throws(ExpressionError) -> Syntax {
        guard case .symbol(let symbol) = current.kind, symbol == .not || symbol == .minus else {
            return try parsePrimary()
        }
        let op = advance()
        // `-9223372036854775808` is a literal, not the negation of an out-of-range one.
        if symbol == .minus, case .integer(let magnitude) = current.kind {
            let number = advance()
            let literal = try node(kind: .literal(.int(Int64(truncatingIfNeeded: 0 &- magnitude))), column: op.column, endColumn: number.endColumn)
            return literal
        }
        try descend(at: op)
        defer { depth -= 1 }
        let operand = try parseUnary()
        return try node(kind: .unary(symbol, operand), column: op.column, endColumn: operand.endColumn)
    }

    private mutating func parsePrimary() throws(ExpressionError) -> Syntax {
        let token = advance()
        func leaf(_ kind: Syntax.Kind) -> Syntax { Syntax(kind: kind, column: token.column, endColumn: token.endColumn) }
        switch token.kind {
        case .null: return leaf(.literal(.null))
        case .true: return leaf(.literal(.bool(true)))
        case .false: return leaf(.literal(.bool(false)))
        case .decimal(let value): return leaf(.literal(.double(value)))
        case .string(let bytes): return leaf(.literal(.string(bytes)))
        case .integer(let magnitude):
            guard magnitude <= UInt64(Int64.max) else {
                throw ExpressionError("integer literal \(magnitude) does not fit in 64 bits", column: token.column,
                                      hint: "write it as a decimal, e.g. \(magnitude).0")
            }
            return leaf(.literal(.int(Int64(magnitude))))
        case .symbol(.openBracket):
            try descend(at: token)
            defer { depth -= 1 }
            var elements: [Syntax] = []
            if !isSymbol(.closeBracket) {
                while true {
                    elements.append(try parseOr())
                    guard isSymbol(.comma) else { break }
                    _ = advance()
                }
            }
            guard isSymbol(.closeBracket) else {
                throw ExpressionError("expected ',' or ']' in array opened at column \(token.column), found \(current.display)", column: current.column)
            }
            let close = advance()
            return try node(kind: .array(elements), column: token.column, endColumn: close.endColumn)
        case .symbol(.openParen):
            try descend(at: token)
            defer { depth -= 1 }
            let inner = try parseOr()
            guard isSymbol(.closeParen) else {
                throw ExpressionError("expected ')' to close '(' at column \(token.column), found \(current.display)", column: current.column)
            }
            let close = advance()
            return try node(kind: inner.kind, column: token.column, endColumn: close.endColumn)
        case .name(let name):
            if isSymbol(.openParen) {
                return try parseCall(name: name, nameToken: token)
            }
            let path = try parsePathSteps(first: name)
            return try node(kind: .path(path), column: token.column, endColumn: tokens[position - 1].endColumn)
        case .end:
            throw ExpressionError("expected a value, found end of expression", column: token.column)
        default:
            throw ExpressionError("expected a value, found \(token.display)", column: token.column)
        }
    }

    private mutating func parseCall(name: String, nameToken: Token) throws(ExpressionError) -> Syntax {
        let open = advance()
        try descend(at: open)
        defer { depth -= 1 }
        var arguments: [Syntax] = []
        if !isSymbol(.closeParen) {
            while true {
                arguments.append(try parseOr())
                if isSymbol(.comma) {
                    _ = advance()
                    continue
                }
                break
            }
        }
        guard isSymbol(.closeParen) else {
            throw ExpressionError("expected ',' or ')' in call to '\(name)' (opened at column \(open.column)), found \(current.display)",
                                  column: current.column)
        }
        let close = advance()
        return try node(kind: .call(name: name, arguments: arguments), column: nameToken.column, endColumn: close.endColumn)
    }

    private mutating func parsePathSteps(first: String) throws(ExpressionError) -> FieldPath {
        var steps: [FieldPath.Step] = [.key(Array(first.utf8))]
        while true {
            if isSymbol(.dot) {
                _ = advance()
                let token = advance()
                switch token.kind {
                case .name(let name): steps.append(.key(Array(name.utf8)))
                case .null: steps.append(.key(Array("null".utf8)))
                case .true: steps.append(.key(Array("true".utf8)))
                case .false: steps.append(.key(Array("false".utf8)))
                default:
                    throw ExpressionError("expected a field name after '.', found \(token.display)", column: token.column)
                }
            } else if isSymbol(.openBracket) {
                let open = advance()
                if isSymbol(.times) {
                    _ = advance()
                    guard isSymbol(.closeBracket) else {
                        throw ExpressionError("expected ']' after '[*', found \(current.display)", column: current.column)
                    }
                    _ = advance()
                    steps.append(.all)
                    continue
                }
                var negative = false
                if isSymbol(.minus) {
                    _ = advance()
                    negative = true
                }
                let token = advance()
                switch token.kind {
                case .integer(let magnitude) where magnitude <= UInt64(Int32.max):
                    steps.append(.index(negative ? -Int(magnitude) : Int(magnitude)))
                case .string(let bytes) where !negative:
                    steps.append(.key(bytes))
                case .integer:
                    throw ExpressionError("array index is too large", column: token.column)
                default:
                    throw ExpressionError("expected an integer index or a quoted key after '[', found \(token.display)", column: token.column)
                }
                guard isSymbol(.closeBracket) else {
                    throw ExpressionError("expected ']' to close '[' at column \(open.column), found \(current.display)", column: current.column)
                }
                _ = advance()
            } else {
                return FieldPath(steps: steps)
            }
        }
    }
}
