/// One token of an expression, with the 1-based column where it starts.
package struct Token: Equatable {
    enum Kind: Equatable {
        case name(String)
        /// An integer literal's magnitude (a leading `-` is an operator); up to 2^63 so
        /// that `-9223372036854775808` can be written.
        case integer(UInt64)
        case decimal(Double)
        /// A string literal, already unescaped, as UTF-8.
        case string([UInt8])
        case null, `true`, `false`
        case symbol(Symbol)
        case end
    }

    enum Symbol: String, Equatable {
        case equal = "==", notEqual = "!=", less = "<", lessEqual = "<=", greater = ">", greaterEqual = ">="
        case and = "&&", or = "||", not = "!"
        case plus = "+", minus = "-", times = "*", divide = "/", remainder = "%"
        case openParen = "(", closeParen = ")", openBracket = "[", closeBracket = "]"
        case dot = ".", comma = ","
    }

    var kind: Kind
    var column: Int
    /// Column one past the token's last scalar.
    var endColumn: Int

    /// How the token reads in an error message.
    var display: String {
        switch kind {
        case .name(let name): return "'\(name)'"
        case .integer, .decimal: return "number"
        case .string: return "string"
        case .null: return "'null'"
        case .true: return "'true'"
        case .false: return "'false'"
        case .symbol(let symbol): return "'\(symbol.rawValue)'"
        case .end: return "end of expression"
        }
    }
}

/// Splits expression text into tokens.
///
/// Strings take JSON escapes (`\" \\ \/ \b \f \n \r \t \uXXXX`, surrogate pairs joined)
/// plus `\'`, in double or single quotes. Numbers are JSON numbers without a sign.
struct Lexer {
    private let scalars: [Unicode.Scalar]
    private var position = 0

    init(_ source: String) {
        scalars = Array(source.unicodeScalars)
    }

    static func tokenize(_ source: String) throws(ExpressionError) -> [Token] {
        var lexer = Lexer(source)
        var tokens: [Token] = []
        while true {
            let token = try lexer.next()
            tokens.append(token)
            if token.kind == .end { return tokens }
        }
    }

    private func peek(_ offset: Int = 0) -> Unicode.Scalar? {
        let i = position + offset
        return i < scalars.count ? scalars[i] : nil
    }

    private static func isNameStart(_ c: Unicode.Scalar) -> Bool {
        c == "_" || ("a"..."z").contains(c) || ("A"..."Z").contains(c)
    }

    /// Names of XML records also hold `@` and `#` (`@id`, `#text`, leading or after a
    /// letter) and `:` (`mml:math`).
    private static func isNamePart(_ c: Unicode.Scalar) -> Bool {
        isNameStart(c) || isDigit(c) || c == ":" || c == "@" || c == "#"
    }

    /// True at `@` or `#` followed by a name start: an XML key such as `@id` or `#text`.
    private func isXMLNameStart() -> Bool {
        guard let c = peek(), c == "@" || c == "#", let d = peek(1) else { return false }
        return Lexer.isNameStart(d)
    }

    private static func isDigit(_ c: Unicode.Scalar) -> Bool { ("0"..."9").contains(c) }

    private mutating func next() throws(ExpressionError) -> Token {
        while let c = peek(), c == " " || c == "\t" || c == "\n" || c == "\r" { position += 1 }
        let start = position
        let column = start + 1
        func token(_ kind: Token.Kind) -> Token { Token(kind: kind, column: column, endColumn: position + 1) }
        guard let c = peek() else { return token(.end) }

        if Lexer.isNameStart(c) || isXMLNameStart() {
            position += 1
            while let d = peek(), Lexer.isNamePart(d) { position += 1 }
            let name = String(String.UnicodeScalarView(scalars[start..<position]))
            switch name {
            case "null": return token(.null)
            case "true": return token(.true)
            case "false": return token(.false)
            default: return token(.name(name))
            }
        }
        if Lexer.isDigit(c) { return try number(column: column) }
        if c == "\"" || c == "'" { return try string(quote: c, column: column) }

        position += 1
        let twoCharacter: [Unicode.Scalar: (Unicode.Scalar, Token.Symbol)] = [
            "=": ("=", .equal), "!": ("=", .notEqual), "<": ("=", .lessEqual), ">": ("=", .greaterEqual),
            "&": ("&", .and), "|": ("|", .or),
        ]
        if let (second, symbol) = twoCharacter[c], peek() == second {
            position += 1
            return token(.symbol(symbol))
        }
        switch c {
        case "!": return token(.symbol(.not))
        case "<": return token(.symbol(.less))
        case ">": return token(.symbol(.greater))
        case "+": return token(.symbol(.plus))
        case "-": return token(.symbol(.minus))
        case "*": return token(.symbol(.times))
        case "/": return token(.symbol(.divide))
        case "%": return token(.symbol(.remainder))
        case "(": return token(.symbol(.openParen))
        case ")": return token(.symbol(.closeParen))
        case "[": return token(.symbol(.openBracket))
        case "]": return token(.symbol(.closeBracket))
        case ".": return token(.symbol(.dot))
        case ",": return token(.symbol(.comma))
        case "=": throw ExpressionError("unexpected '='", column: column, hint: "did you mean '=='?")
        case "&": throw ExpressionError("unexpected '&'", column: column, hint: "did you mean '&&'?")
        case "|": throw ExpressionError("unexpected '|'", column: column, hint: "did you mean '||'?")
        default: throw ExpressionError("unexpected character '\(c.escaped(asASCII: false))'", column: column)
        }
    }

    private mutating func number(column: Int) throws(ExpressionError) -> Token {
        let start = position
        var isInteger = true
        while let d = peek(), Lexer.isDigit(d) { position += 1 }
        if peek() == ".", let d = peek(1), Lexer.isDigit(d) {
            isInteger = false
            position += 1
            while let d = peek(), Lexer.isDigit(d) { position += 1 }
        }
        if peek() == "e" || peek() == "E" {
            var exponentStart = 1
            if peek(1) == "+" || peek(1) == "-" { exponentStart = 2 }
            guard let d = peek(exponentStart), Lexer.isDigit(d) else {
                throw ExpressionError("malformed number: exponent has no digits", column: column)
            }
            isInteger = false
            position += exponentStart
            while let d = peek(), Lexer.isDigit(d) { position += 1 }
        }
        if let d = peek(), Lexer.isNameStart(d) {
            throw ExpressionError("malformed number: unexpected '\(d)' after digits", column: position + 1)
        }
        let text = String(String.UnicodeScalarView(scalars[start..<position]))
        if text.hasPrefix("0"), let second = text.dropFirst().unicodeScalars.first, Lexer.isDigit(second) {
            throw ExpressionError("malformed number: leading zero in '\(text)'", column: column)
        }
        if isInteger {
            guard let magnitude = UInt64(text), magnitude <= UInt64(Int64.max) + 1 else {
                throw ExpressionError("integer literal \(text) does not fit in 64 bits", column: column,
                                      hint: "write it as a decimal, e.g. \(text).0")
            }
            return Token(kind: .integer(magnitude), column: column, endColumn: position + 1)
        }
        guard let value = Double(text), value.isFinite else {
            throw ExpressionError("number \(text) is out of range", column: column)
        }
        return Token(kind: .decimal(value), column: column, endColumn: position + 1)
    }

    private mutating func string(quote: Unicode.Scalar, column: Int) throws(ExpressionError) -> Token {
        position += 1
        var bytes: [UInt8] = []
        func append(_ scalar: Unicode.Scalar) {
            bytes.append(contentsOf: UTF8.encode(scalar)!)
        }
        while true {
            guard let c = peek() else {
                throw ExpressionError("unterminated string", column: column)
            }
            position += 1
            if c == quote { break }
            guard c == "\\" else {
                append(c)
                continue
            }
            let escapeColumn = position
            guard let e = peek() else { throw ExpressionError("unterminated string", column: column) }
            position += 1
            switch e {
            case "\"", "\\", "/", "'": append(e)
            case "b": bytes.append(0x08)
            case "f": bytes.append(0x0C)
            case "n": bytes.append(0x0A)
            case "r": bytes.append(0x0D)
            case "t": bytes.append(0x09)
            case "u":
                let high = try hex4(escapeColumn: escapeColumn)
                var value = UInt32(high)
                if (0xD800...0xDBFF).contains(high) {
                    guard peek() == "\\", peek(1) == "u" else {
                        throw ExpressionError("unpaired surrogate in \\u escape", column: escapeColumn)
                    }
                    position += 2
                    let low = try hex4(escapeColumn: position - 1)
                    guard (0xDC00...0xDFFF).contains(low) else {
                        throw ExpressionError("unpaired surrogate in \\u escape", column: escapeColumn)
                    }
                    value = 0x10000 + ((UInt32(high) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(high) {
                    throw ExpressionError("unpaired surrogate in \\u escape", column: escapeColumn)
                }
                append(Unicode.Scalar(value)!)
            default:
                throw ExpressionError("invalid escape '\\\(e.escaped(asASCII: false))' in string", column: escapeColumn)
            }
        }
        return Token(kind: .string(bytes), column: column, endColumn: position + 1)
    }

    private mutating func hex4(escapeColumn: Int) throws(ExpressionError) -> UInt16 {
        var value: UInt16 = 0
        for _ in 0..<4 {
            guard let c = peek(), c.isASCII, let digit = UInt16(String(c), radix: 16) else {
                throw ExpressionError("\\u escape needs four hex digits", column: escapeColumn)
            }
            value = value << 4 | digit
            position += 1
        }
        return value
    }
}
