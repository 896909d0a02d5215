/// libyaml's syntax errors in words that say what to fix: a tab, an indentation that does
/// not line up, a quote that is never closed. libyaml names the symptom ("found character
/// that cannot start any token", "mapping values are not allowed in this context"); the
/// line it points at usually shows the cause.
enum YAMLSyntaxExplanation {
    static func message(problem: String, context: String?, contextLine: Int?, line: Int, column: Int, yaml: String) -> String {
        let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false)
        let text = line >= 1 && line <= lines.count ? String(lines[line - 1]) : ""
        let raw = "invalid YAML: \(problem)"
        if text.contains("\t") || problem.contains("tab") {
            return "a tab character: YAML indents with spaces only — replace the tab with spaces (\(raw))"
        }
        if let context, context.contains("quoted scalar") {
            let start = contextLine.map { " that starts on line \($0)" } ?? ""
            return "a quoted string\(start) is never closed: add the closing quote (\(raw))"
        }
        if problem.contains("mapping values are not allowed") {
            return "a key is not expected here: check that this line's indentation lines up with the keys above it, "
                + "and quote a value that contains ': ' (\(raw))"
        }
        if problem.contains("did not find expected key") || problem.contains("did not find expected '-' indicator") {
            return "this line's indentation does not match the block it belongs to: line it up with its siblings (\(raw))"
        }
        if problem.contains("could not find expected ':'") {
            return "a key without ':' (or an unquoted value that runs over several lines): add the ':' or quote the value (\(raw))"
        }
        if let context, context.contains("flow"), problem.contains("did not find expected") {
            return "a { } or [ ] that is not closed, or a missing ',' between its items (\(raw))"
        }
        return raw
    }
}
