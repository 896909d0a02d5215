/// Suggestions for what people bring from other languages (SQL, Python, JavaScript, jq)
/// when they write an expression: the names and operators that are spelled differently
/// here. Edit distance finds typos (`lenn` → `len`); this table finds habits
/// (`length` → `len`, `and` → `&&`), which are too far apart for it.
enum ExpressionHints {
    /// Function names of other languages, by the function that does the same here.
    private static let functionAliases: [String: String] = [
        "length": "len", "lenght": "len", "size": "len", "strlen": "len",
        "tolower": "lower", "lowercase": "lower", "downcase": "lower", "ascii_downcase": "lower",
        "toupper": "upper", "uppercase": "upper", "upcase": "upper", "ascii_upcase": "upper",
        "strip": "trim", "ltrimstr": "trim", "rtrimstr": "trim",
        "substring": "substr", "mid": "substr", "slice": "substr",
        "startswith": "starts_with", "beginswith": "starts_with",
        "endswith": "ends_with",
        "regex": "matches", "test": "matches", "like": "matches", "rlike": "matches", "regexp_like": "matches",
        "ifnull": "coalesce", "nvl": "coalesce", "isnull": "coalesce",
        "has": "exists", "defined": "exists", "isset": "exists",
        "tostring": "string", "str": "string", "tonumber": "float", "number": "float", "double": "float",
        "integer": "int", "toint": "int", "parseint": "int",
        "strptime": "parse_time", "to_timestamp": "parse_time", "strftime": "format_time",
        "iif": "if", "ifelse": "if", "cond": "if",
        "total": "sum", "add": "sum",
    ]

    /// The function `name` probably means, when it is another language's name for one.
    static func functionAlias(for name: String) -> String? {
        functionAliases[name.lowercased()]
    }

    /// A hint for an unexpected token that follows `previous`: the operators written as
    /// words elsewhere (`and`, `or`, `not`, `is null`).
    static func operatorHint(for token: Token, after previous: Token?) -> String? {
        func word(_ t: Token?) -> String? {
            guard let t, case .name(let name) = t.kind else { return nil }
            return name.lowercased()
        }
        switch word(token) {
        case "and": return "write '&&' for and"
        case "or": return "write '||' for or"
        case "is": return "write '== null' / '!= null' to test for null"
        case "in": return nil
        default: break
        }
        switch word(previous) {
        case "not": return "write '!' for not, e.g. !(status == \"x\")"
        default: return nil
        }
    }
}
