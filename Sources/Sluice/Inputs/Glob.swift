import SluiceStages

/// A compiled path glob, matched against `/`-separated relative paths.
///
/// Syntax:
/// - `**` as a whole segment matches any number of segments, including none
///   (`**/*.json` matches `a.json` and `x/y/a.json`);
/// - `*` matches any run of characters within one segment, `?` exactly one character;
/// - `[abc]`, `[a-z]`, `[!a-z]` / `[^a-z]` match one character of (or not of) a class;
/// - `{a,b}` matches either alternative; alternatives may nest and may contain `/`;
/// - `\` escapes the next character.
///
/// Wildcards match leading dots too: `*` is not special about hidden files. A pattern is
/// anchored at the input directory: `*.json` matches only files directly in it.
///
/// ```swift
/// let glob = try Glob("**/*.{json,ndjson}.gz")
/// glob.matches("2024/01/orders.json.gz") // true
/// ```
struct Glob: Sendable {
    /// The pattern as written.
    let pattern: String
    /// One segment list per brace alternative.
    private let alternatives: [[Segment]]
    /// For a pattern `**/*SUFFIX` (the usual `**/*.json.gz`), the suffix: a path matches
    /// when its last part ends with it. A scan matched each of 20,000 names through the
    /// general matcher, which splits the path into arrays of scalars.
    private let lastPartSuffix: [Unicode.Scalar]?

    private enum Segment: Sendable {
        case globstar
        case tokens([Token])
    }

    private enum Token: Sendable {
        case literal(Unicode.Scalar)
        case anyRun
        case anyOne
        case set([ClosedRange<Unicode.Scalar>], negated: Bool)
    }

    /// Compiles `pattern`.
    ///
    /// - Throws: ``InputError/invalidGlob(pattern:reason:)`` for an empty pattern, an
    ///   unclosed `[` or `{`, or a trailing `\`.
    init(_ pattern: String) throws(InputError) {
        self.pattern = pattern
        var text = Array(pattern.unicodeScalars)
        while text.count >= 2, text[0] == ".", text[1] == "/" { text.removeFirst(2) }
        while text.first == "/" { text.removeFirst() }
        while text.count > 1, text.last == "/" { text.removeLast() }
        guard !text.isEmpty else { throw .invalidGlob(pattern: pattern, reason: "the pattern is empty") }
        let expanded = try Glob.expandBraces(text, pattern: pattern)
        alternatives = try expanded.map { alternative throws(InputError) in
            try Glob.compile(alternative, pattern: pattern)
        }
        lastPartSuffix = Glob.suffixPattern(alternatives)
    }

    private static func suffixPattern(_ alternatives: [[Segment]]) -> [Unicode.Scalar]? {
        guard alternatives.count == 1, alternatives[0].count == 2, case .globstar = alternatives[0][0],
              case .tokens(let tokens) = alternatives[0][1], tokens.count > 1, case .anyRun = tokens[0] else { return nil }
        var suffix: [Unicode.Scalar] = []
        for token in tokens.dropFirst() {
            guard case .literal(let c) = token else { return nil }
            suffix.append(c)
        }
        return suffix
    }

    /// True when `path` (relative, `/`-separated) matches the pattern.
    func matches(_ path: String) -> Bool {
        if let suffix = lastPartSuffix { return Glob.lastPart(of: path, endsWith: suffix) }
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map { Array($0.unicodeScalars) }
        for segments in alternatives where Glob.match(segments, 0, parts, 0) {
            return true
        }
        return false
    }

    /// True when the pattern matches every path below the directory `path` (the pattern
    /// ends in `/**` and the rest matches `path`), so a scan can skip that directory.
    func matchesEverything(under path: String) -> Bool {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map { Array($0.unicodeScalars) }
        for segments in alternatives {
            guard case .globstar? = segments.last else { continue }
            if Glob.match(Array(segments.dropLast()), 0, parts, 0) { return true }
        }
        return false
    }

    // MARK: Compilation

    /// Expands the first top-level `{...}` group, recursively, into plain patterns.
    private static func expandBraces(_ text: [Unicode.Scalar], pattern: String) throws(InputError) -> [[Unicode.Scalar]] {
        var i = 0
        var open = -1
        while i < text.count {
            let c = text[i]
            if c == "\\" { i += 2; continue }
            if c == "[" { i = try classEnd(text, i, pattern: pattern) + 1; continue }
            if c == "{" { open = i; break }
            i += 1
        }
        if open < 0 { return [text] }
        var depth = 0
        var cuts: [Int] = []
        var close = -1
        i = open
        scan: while i < text.count {
            let c = text[i]
            switch c {
            case "\\": i += 2; continue scan
            case "[": i = try classEnd(text, i, pattern: pattern) + 1; continue scan
            case "{": depth += 1
            case "}":
                depth -= 1
                if depth == 0 { close = i; break scan }
            case "," where depth == 1: cuts.append(i)
            default: break
            }
            i += 1
        }
        guard close >= 0 else { throw .invalidGlob(pattern: pattern, reason: "unclosed '{'") }
        let prefix = text[..<open]
        let suffix = text[(close + 1)...]
        var result: [[Unicode.Scalar]] = []
        var from = open + 1
        for cut in cuts + [close] {
            let candidate = Array(prefix) + Array(text[from..<cut]) + Array(suffix)
            result += try expandBraces(candidate, pattern: pattern)
            from = cut + 1
        }
        return result
    }

    /// Index of the `]` closing the class that opens at `start`.
    private static func classEnd(_ text: [Unicode.Scalar], _ start: Int, pattern: String) throws(InputError) -> Int {
        var i = start + 1
        if i < text.count, text[i] == "!" || text[i] == "^" { i += 1 }
        if i < text.count, text[i] == "]" { i += 1 }
        while i < text.count {
            if text[i] == "\\" { i += 2; continue }
            if text[i] == "]" { return i }
            i += 1
        }
        throw .invalidGlob(pattern: pattern, reason: "unclosed '['")
    }

    private static func compile(_ text: [Unicode.Scalar], pattern: String) throws(InputError) -> [Segment] {
        var segments: [Segment] = []
        for part in text.split(separator: "/", omittingEmptySubsequences: true) {
            let part = Array(part)
            if part == ["*", "*"] {
                if case .globstar? = segments.last { continue }
                segments.append(.globstar)
                continue
            }
            var tokens: [Token] = []
            var i = 0
            while i < part.count {
                let c = part[i]
                switch c {
                case "\\":
                    guard i + 1 < part.count else { throw .invalidGlob(pattern: pattern, reason: "trailing '\\'") }
                    tokens.append(.literal(part[i + 1]))
                    i += 2
                    continue
                case "*":
                    if case .anyRun? = tokens.last {} else { tokens.append(.anyRun) }
                case "?":
                    tokens.append(.anyOne)
                case "[":
                    let end = try classEnd(part, i, pattern: pattern)
                    tokens.append(makeSet(Array(part[(i + 1)..<end])))
                    i = end
                default:
                    tokens.append(.literal(c))
                }
                i += 1
            }
            segments.append(.tokens(tokens))
        }
        return segments
    }

    private static func makeSet(_ body: [Unicode.Scalar]) -> Token {
        var body = body[...]
        var negated = false
        if let first = body.first, first == "!" || first == "^" {
            negated = true
            body = body.dropFirst()
        }
        var ranges: [ClosedRange<Unicode.Scalar>] = []
        var items: [Unicode.Scalar] = []
        var i = body.startIndex
        while i < body.endIndex {
            if body[i] == "\\", i + 1 < body.endIndex { i += 1 }
            items.append(body[i])
            i += 1
        }
        var j = 0
        while j < items.count {
            if j + 2 < items.count, items[j + 1] == "-", items[j] <= items[j + 2] {
                ranges.append(items[j]...items[j + 2])
                j += 3
            } else {
                ranges.append(items[j]...items[j])
                j += 1
            }
        }
        return .set(ranges, negated: negated)
    }

    // MARK: Matching

    /// Whether the last non-empty `/`-separated part of `path` ends with `suffix`.
    private static func lastPart(of path: String, endsWith suffix: [Unicode.Scalar]) -> Bool {
        let utf8 = path.utf8
        var end = utf8.endIndex
        while end > utf8.startIndex, utf8[utf8.index(before: end)] == UInt8(ascii: "/") { end = utf8.index(before: end) }
        guard end > utf8.startIndex else { return false }
        var start = end
        while start > utf8.startIndex, utf8[utf8.index(before: start)] != UInt8(ascii: "/") { start = utf8.index(before: start) }
        let scalars = path[start..<end].unicodeScalars
        var i = scalars.endIndex
        for c in suffix.reversed() {
            guard i > scalars.startIndex else { return false }
            i = scalars.index(before: i)
            if scalars[i] != c { return false }
        }
        return true
    }

    private static func match(_ segments: [Segment], _ si: Int, _ parts: [[Unicode.Scalar]], _ pi: Int) -> Bool {
        if si == segments.count { return pi == parts.count }
        switch segments[si] {
        case .globstar:
            if si + 1 == segments.count { return true }
            for next in pi...parts.count where match(segments, si + 1, parts, next) {
                return true
            }
            return false
        case .tokens(let tokens):
            guard pi < parts.count, matchSegment(tokens, parts[pi]) else { return false }
            return match(segments, si + 1, parts, pi + 1)
        }
    }

    /// Wildcard match of one segment, backtracking only to the last `*`.
    private static func matchSegment(_ tokens: [Token], _ name: [Unicode.Scalar]) -> Bool {
        var t = 0
        var n = 0
        var starToken = -1
        var starName = 0
        while n < name.count {
            if t < tokens.count {
                switch tokens[t] {
                case .anyRun:
                    starToken = t
                    starName = n
                    t += 1
                    continue
                case .anyOne:
                    t += 1
                    n += 1
                    continue
                case .literal(let c) where c == name[n]:
                    t += 1
                    n += 1
                    continue
                case .set(let ranges, let negated) where ranges.contains(where: { $0.contains(name[n]) }) != negated:
                    t += 1
                    n += 1
                    continue
                default:
                    break
                }
            }
            guard starToken >= 0 else { return false }
            t = starToken + 1
            starName += 1
            n = starName
        }
        while t < tokens.count, case .anyRun = tokens[t] { t += 1 }
        return t == tokens.count
    }
}
