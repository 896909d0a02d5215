import SluiceStages

/// The declared schema of a Parquet output (`output.parquet.schema`) and its options.
public struct ParquetOptions: Sendable {
    public var columns: [ParquetColumn] = []
    /// A row group is written once it holds this many rows...
    public var rowGroupRows: Int = 122_880
    /// ...or its buffered values pass this many bytes (the memory one open output holds).
    public var rowGroupBytes: Int = 32 << 20
    /// A column chunk whose dictionary would pass this many bytes is written PLAIN.
    public var dictionaryBytes: Int = 1 << 20
    /// The page codec; nil takes `output.compression`.
    public var codec: ParquetCodec?

    public init() {}
}

/// Page compression of a Parquet file (the footer is never compressed).
public enum ParquetCodec: String, Sendable, CaseIterable {
    case none, gzip, zstd

    /// Parquet's CompressionCodec enum value.
    var thriftValue: Int32 {
        switch self {
        case .none: return 0
        case .gzip: return 2
        case .zstd: return 6
        }
    }
}

/// The type of one value (a primitive column, a list's elements, a struct's field).
public enum ParquetType: Sendable, Equatable, CustomStringConvertible {
    case bool, int32, int64, double, string, binary, date
    /// `timestamp(ms|us[, utc|local])`: INT64 since 1970; `utc` (the default) is
    /// isAdjustedToUTC = true.
    case timestamp(micros: Bool, utc: Bool)
    /// `decimal(p,s)`, 1 ≤ p ≤ 38, 0 ≤ s ≤ p: INT32 up to p 9, INT64 up to 18,
    /// FIXED_LEN_BYTE_ARRAY beyond.
    case decimal(precision: Int, scale: Int)

    public var description: String {
        switch self {
        case .bool: return "bool"
        case .int32: return "int32"
        case .int64: return "int64"
        case .double: return "double"
        case .string: return "string"
        case .binary: return "binary"
        case .date: return "date"
        case .timestamp(let micros, let utc): return "timestamp(\(micros ? "us" : "ms")\(utc ? "" : ", local"))"
        case .decimal(let p, let s): return "decimal(\(p),\(s))"
        }
    }

    /// Parses `int64`, `decimal(12,2)`, `timestamp(us, local)`...; nil when unknown.
    public init?(text: String) {
        let t = text.filter { !$0.isWhitespace }.lowercased()
        switch t {
        case "bool", "boolean": self = .bool
        case "int32", "int": self = .int32
        case "int64", "long": self = .int64
        case "double", "float64": self = .double
        case "string", "utf8": self = .string
        case "binary", "bytes": self = .binary
        case "date": self = .date
        case "timestamp": self = .timestamp(micros: true, utc: true)
        default:
            if t.hasPrefix("timestamp("), t.hasSuffix(")") {
                let args = t.dropFirst(10).dropLast().split(separator: ",").map(String.init)
                guard (1...2).contains(args.count), ["ms", "us"].contains(args[0]) else { return nil }
                let utc: Bool
                switch args.count == 2 ? args[1] : "utc" {
                case "utc": utc = true
                case "local": utc = false
                default: return nil
                }
                self = .timestamp(micros: args[0] == "us", utc: utc)
            } else if t.hasPrefix("decimal("), t.hasSuffix(")") {
                let args = t.dropFirst(8).dropLast().split(separator: ",").map { Int($0) }
                guard args.count == 2, let p = args[0], let s = args[1], (1...38).contains(p), (0...p).contains(s) else { return nil }
                self = .decimal(precision: p, scale: s)
            } else {
                return nil
            }
        }
    }

    /// Parquet's physical Type enum value.
    var physical: Int32 {
        switch self {
        case .bool: return 0
        case .int32, .date: return 1
        case .int64, .timestamp: return 2
        case .double: return 5
        case .string, .binary: return 6
        case .decimal(let p, _): return p <= 9 ? 1 : p <= 18 ? 2 : 7
        }
    }

    /// FIXED_LEN_BYTE_ARRAY width of a wide decimal: the fewest bytes that hold 10^p − 1.
    var fixedLength: Int? {
        guard case .decimal(let p, _) = self, p > 18 else { return nil }
        var n = 1
        while Double(p) > (Double(8 * n - 1) * 0.30102999566398120).rounded(.down) { n += 1 }
        return n
    }
}

/// One top-level column of the schema.
public struct ParquetColumn: Sendable {
    public enum Shape: Sendable {
        case primitive(ParquetType)
        /// A list of primitives (elements may be null when `elementNullable`).
        case list(ParquetType, elementNullable: Bool)
        /// A struct of primitive fields, read from an object's members of those names.
        case structure([ParquetField])
    }

    public var name: String
    /// The expression (usually a field path) whose value fills the column.
    public var path: String
    public var shape: Shape
    public var nullable: Bool
    var compiled: CompiledExpression

    public init(name: String, path: String, shape: Shape, nullable: Bool, compiled: CompiledExpression) {
        self.name = name
        self.path = path
        self.shape = shape
        self.nullable = nullable
        self.compiled = compiled
    }
}

/// One field of a struct column.
public struct ParquetField: Sendable {
    public var name: String
    public var type: ParquetType
    public var nullable: Bool

    public init(name: String, type: ParquetType, nullable: Bool) {
        self.name = name
        self.type = type
        self.nullable = nullable
    }
}

/// A leaf (primitive) column of the file: what the pages of one column chunk hold.
struct ParquetLeaf: Sendable {
    var path: [String]
    var type: ParquetType
    var maxDefinition: UInt8
    var maxRepetition: UInt8
    /// Display name in error messages (`address.city`).
    var displayName: String { path.filter { $0 != "list" && $0 != "element" }.joined(separator: ".") }

    /// The leaves of `columns`, in schema (depth-first) order.
    static func leaves(of columns: [ParquetColumn]) -> [ParquetLeaf] {
        var out: [ParquetLeaf] = []
        for column in columns {
            let own: UInt8 = column.nullable ? 1 : 0
            switch column.shape {
            case .primitive(let type):
                out.append(ParquetLeaf(path: [column.name], type: type, maxDefinition: own, maxRepetition: 0))
            case .list(let type, let elementNullable):
                out.append(ParquetLeaf(path: [column.name, "list", "element"], type: type,
                                       maxDefinition: own + 1 + (elementNullable ? 1 : 0), maxRepetition: 1))
            case .structure(let fields):
                for field in fields {
                    out.append(ParquetLeaf(path: [column.name, field.name], type: field.type,
                                           maxDefinition: own + (field.nullable ? 1 : 0), maxRepetition: 0))
                }
            }
        }
        return out
    }
}
