import Foundation
import SluiceCore
import SluiceStages

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

    /// `docs/stages.md`: every stage kind, from ``StageRegistry/kinds`` — each kind's
    /// declared value and keys (types, required, defaults) — and the keys every stage takes.
    public static var stages: String {
        var text = "<!-- THIS FILE IS GENERATED from StageRegistry.kinds; do not edit. -->\n# Stages\n\n"
        text += "Every stage takes these keys besides its kind's key:\n\n"
        text += table(ConfigSchema.stageCommon)
        text += "\nThe keys of each kind follow the table; the full discussion of a stage is the doc comment of its type "
        text += "in Sources/Sluice/Stages/.\n\n"
        text += "| kind | what it does |\n|---|---|\n"
        for kind in StageRegistry.kinds {
            text += "| [`\(kind.name)`](#\(kind.name)) | \(kind.summary) |\n"
        }
        for kind in StageRegistry.kinds {
            text += "\n## \(kind.name)\n\n\(kind.summary)\n\n```yaml\n- \(kind.name): \(kind.example)\n```\n\n"
            text += table(rows(kind))
        }
        return text
    }

    /// The rows of a kind: its plain value (`(value)`), its user-named keys (`<field path>`)
    /// and its fixed keys.
    private static func rows(_ kind: StageKind) -> [ConfigKey] {
        func rows(_ type: ConfigType, doc: String) -> [ConfigKey] {
            switch type {
            case .mapping(let keys): return keys
            case .fields(let label, let value): return [ConfigKey("<\(label)>", value, doc)]
            case .oneOf(let types): return types.flatMap { rows($0, doc: doc) }
            default: return [ConfigKey("(value)", type, doc)]
            }
        }
        return rows(kind.value.type, doc: kind.value.doc)
    }

    private static func table(_ keys: [ConfigKey]) -> String {
        var text = "| key | value | meaning |\n|---|---|---|\n"
        for key in keys {
            let name = key.name.hasPrefix("<") || key.name.hasPrefix("(")
                ? "*\(key.name.replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;"))*"
                : "`\(key.name)`"
            var meaning = key.doc
            if key.isRequired { meaning = "Required. " + meaning }
            if let value = key.defaultValue { meaning += " Default: `\(value)`." }
            text += "| \(name) | \(ConfigSchema.cell(key.type.summary)) | \(ConfigSchema.cell(meaning)) |\n"
        }
        return text
    }
}
