/// The type of one config value, as the loader reads it, the docs describe it and the
/// JSON Schema states it.
///
/// Part of the key-table vocabulary (``ConfigType``, ``ConfigKey``, ``Setting``,
/// ``ConfigValue``): it depends on nothing but the standard library, so stages can
/// declare their keys with it without knowing how a config file is read.
public indirect enum ConfigType: Sendable {
    case string
    /// An expression over the record (a string, compiled by the stage).
    case expression
    /// A field path such as `customer.id` (a string).
    case fieldPath
    /// An integer in a range.
    case integer(ClosedRange<Int>)
    /// A number in a range.
    case number(ClosedRange<Double>)
    case boolean
    /// One of these words.
    case choice([String])
    /// A list of strings; one string is taken as a list of one.
    case stringList
    /// A program and its arguments: a list of strings, never split from one string
    /// (its quoting would be a guess).
    case arguments
    /// `16MiB`, `512KB` or a number of bytes, in a range.
    case byteSize(ClosedRange<Int>)
    /// `500ms`, `2s`, `5m`, `1h`, `1d`, or a number of seconds; within `range` when given.
    case duration(ClosedRange<Duration>? = nil)
    /// A worker count or `auto` (one per core).
    case workers
    /// A mapping with these keys.
    case mapping([ConfigKey])
    /// A mapping whose keys the user chooses (field paths, output fields, variable
    /// names), each with a value of one type; `label` names such a key in the docs.
    case fields(label: String, ConfigType)
    /// One of several shapes (a mapping alternative is chosen for a mapping, the first
    /// other alternative for anything else).
    case oneOf([ConfigType])
    /// A list of values of one type.
    case list(ConfigType)
    /// Anything (checked by the part that reads it).
    case any

    /// Workers of a stage: at most this many, or `auto`.
    public static let workerRange = 1...256

    /// How the docs name the type: `integer 1–256`, `` `keep` | `delete` ``, ….
    public var summary: String {
        switch self {
        case .string: return "string"
        case .expression: return "expression"
        case .fieldPath: return "field path"
        case .integer(let r): return r.upperBound == Int.max ? "integer ≥ \(r.lowerBound)" : "integer \(r.lowerBound)–\(r.upperBound)"
        case .number(let r):
            if r.lowerBound == -Double.greatestFiniteMagnitude && r.upperBound == Double.greatestFiniteMagnitude { return "number" }
            return "number \(r.lowerBound)–\(r.upperBound)"
        case .boolean: return "boolean"
        case .choice(let words): return words.map { "`\($0)`" }.joined(separator: " | ")
        case .stringList: return "string or list of strings"
        case .arguments: return "list of strings"
        case .byteSize: return "size (`16MiB`, `512KB`, bytes)"
        case .duration: return "duration (`500ms`, `30s`, `5m`, `1h`)"
        case .workers: return "integer \(Self.workerRange.lowerBound)–\(Self.workerRange.upperBound) or `auto`"
        case .mapping: return "mapping"
        case .fields(let label, let value): return "mapping \(label) → \(value.inlineSummary)"
        case .oneOf(let types): return types.map(\.summary).joined(separator: " or ")
        case .list(let element):
            switch element {
            case .any: return "list"
            default: return "list of \(element.inlineSummary)"
            }
        case .any: return "any"
        }
    }

    /// The summary inside another type: a small mapping names its keys (`{min, max}`).
    private var inlineSummary: String {
        if case .mapping(let keys) = self {
            return keys.count <= 3 ? "{\(keys.map(\.name).joined(separator: ", "))}" : "mappings"
        }
        return summary
    }
}
