import Foundation

/// Reference pages generated from the code's own descriptions, so the docs cannot drift:
/// a test compares `docs/functions.md` and `docs/stages.md` with these and fails when
/// they are stale (regenerate with `SLUICE_UPDATE_DOCS=1 swift test --filter ReferenceDocs`).
public enum ReferenceDocs {
    /// `docs/functions.md`: every expression function, from ``ExpressionFunction/all``.
    public static var functions: String {
        var text = "<!-- THIS FILE IS GENERATED from ExpressionFunction.all; do not edit. -->\n# Expression functions\n\n"
        text += "See docs/expressions.md for the language and its null semantics.\n"
        for function in ExpressionFunction.all {
            text += "\n## `\(function.signature)`\n\n\(function.summary)\n"
        }
        return text
    }

    /// `docs/stages.md`: every stage kind, from ``StageRegistry/kinds``, with its own keys
    /// (``StageKind/keys``) and the keys every stage takes.
    public static var stages: String {
        var text = "<!-- THIS FILE IS GENERATED from StageRegistry.kinds; do not edit. -->\n# Stages\n\n"
        text += "Every stage takes `name`, `workers` (default 2), `queue` (default 8) and `on_error`: "
        text += "`report` (default: the record goes to the error report), `drop` (counted as `dropped`, no error line) "
        text += "or `fail` (the run stops with exit 1, naming the stage and the error). "
        text += "The keys of each kind follow the table; the full discussion of a stage is the doc comment of its type "
        text += "in Sources/Sluice/Stages/.\n\n"
        text += "| kind | what it does |\n|---|---|\n"
        for kind in StageRegistry.kinds {
            text += "| [`\(kind.name)`](#\(kind.name)) | \(kind.summary) |\n"
        }
        for kind in StageRegistry.kinds {
            text += "\n## \(kind.name)\n\n\(kind.summary)\n"
            guard !kind.keys.isEmpty else { continue }
            text += "\n| key | value | meaning |\n|---|---|---|\n"
            for key in kind.keys {
                let name = key.isFixed ? "`\(key.name)`" : "*\(key.name.replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;"))*"
                text += "| \(name) | \(key.type) | \(key.doc.replacingOccurrences(of: "|", with: "\\|")) |\n"
            }
        }
        return text
    }
}
