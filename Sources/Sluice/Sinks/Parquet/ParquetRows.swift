import SluiceCore
import SluiceStages

/// The values of one leaf column for some rows: definition and repetition levels per
/// level entry, and the non-null values densely (as Parquet's pages store them).
struct ParquetLeafValues: Sendable {
    /// bool (0/1), int32, int64, date, timestamp and decimals up to precision 18.
    var ints: [Int64] = []
    var doubles: [Double] = []
    /// string, binary and wide decimals (big-endian, fixed width): concatenated, with
    /// the end offset of each value.
    var bytes: [UInt8] = []
    var ends: [Int] = []
    var definitions: [UInt8] = []
    var repetitions: [UInt8] = []
    /// For each row: its first level entry and its first value.
    var rowLevel: [Int32] = []
    var rowValue: [Int32] = []

    var valueCount: Int { max(ints.count, doubles.count, ends.count) }

    /// Bytes held, roughly.
    var byteSize: Int {
        ints.count * 8 + doubles.count * 8 + bytes.count + ends.count * 8 + definitions.count + repetitions.count + rowLevel.count * 8
    }
}

/// One batch's records for one Parquet output, converted on an encoding worker.
final class ParquetRows: FileFormatRows, @unchecked Sendable {
    // Safe to send: filled by the one worker that encodes the batch, then handed to the
    // sink and only read from then on.
    var leaves: [ParquetLeafValues]
    private(set) var count = 0
    /// One record's entries while they are converted (reused across records).
    var scratch: [Entry] = []

    init(leafCount: Int) {
        leaves = Array(repeating: ParquetLeafValues(), count: leafCount)
    }

    var byteSize: Int { leaves.reduce(0) { $0 + $1.byteSize } }

    /// One converted value of a record before it is committed to the leaves.
    enum Scalar {
        case int(Int64), double(Double), bytes([UInt8])
    }

    struct Entry {
        var leaf: Int
        var definition: UInt8
        var repetition: UInt8
        var value: Scalar?
    }

    /// Appends one record's entries (all of them converted already).
    package func commit(_ entries: [Entry]) {
        for leaf in leaves.indices {
            leaves[leaf].rowLevel.append(Int32(leaves[leaf].definitions.count))
            leaves[leaf].rowValue.append(Int32(leaves[leaf].valueCount))
        }
        for entry in entries {
            leaves[entry.leaf].definitions.append(entry.definition)
            leaves[entry.leaf].repetitions.append(entry.repetition)
            switch entry.value {
            case .none: break
            case .int(let v)?: leaves[entry.leaf].ints.append(v)
            case .double(let v)?: leaves[entry.leaf].doubles.append(v)
            case .bytes(let b)?:
                leaves[entry.leaf].bytes.append(contentsOf: b)
                leaves[entry.leaf].ends.append(leaves[entry.leaf].bytes.count)
            }
        }
        count += 1
    }
}

/// Converts records to a schema's leaf entries: the type mapping of JSON (and XML) values.
struct ParquetRecordConverter: Sendable {
    let columns: [ParquetColumn]
    let leaves: [ParquetLeaf]
    /// First leaf of each column.
    let firstLeaf: [Int]

    init(columns: [ParquetColumn]) {
        self.columns = columns
        leaves = ParquetLeaf.leaves(of: columns)
        var first: [Int] = []
        var n = 0
        for column in columns {
            first.append(n)
            if case .structure(let fields) = column.shape { n += fields.count } else { n += 1 }
        }
        firstLeaf = first
    }

    private func fail(_ column: String, _ message: String) -> OutputRecordError {
        OutputRecordError(kind: .validation, message: "parquet column '\(column)': \(message)")
    }

    func entries(_ root: Int, in view: JSONView, into out: inout [ParquetRows.Entry]) throws(OutputRecordError) {
        for (c, column) in columns.enumerated() {
            let value: ExpressionValue
            do {
                value = try column.compiled.evaluate(record: root, in: view)
            } catch {
                throw OutputRecordError(kind: .transform, message: "parquet column '\(column.name)': \(error.message)")
            }
            let own: UInt8 = column.nullable ? 1 : 0
            let leaf = firstLeaf[c]
            let isNull = Self.isNull(value, view)
            if isNull && !column.nullable { throw fail(column.name, "null or missing in a column that is not nullable") }
            switch column.shape {
            case .primitive(let type):
                if isNull {
                    out.append(.init(leaf: leaf, definition: 0, repetition: 0, value: nil))
                } else {
                    out.append(.init(leaf: leaf, definition: own, repetition: 0, value: try scalar(value, type, view, column.name)))
                }
            case .list(let type, let elementNullable):
                if isNull {
                    out.append(.init(leaf: leaf, definition: 0, repetition: 0, value: nil))
                    continue
                }
                var elements: [ExpressionValue] = []
                switch value {
                case .array(let items): elements = items
                case .node(let i) where view.kind(i) == .array: elements = view.elements(of: i).map { .node($0) }
                default: throw fail(column.name, "expected a list, got \(value.type(in: view).withArticle)")
                }
                if elements.isEmpty {
                    out.append(.init(leaf: leaf, definition: own, repetition: 0, value: nil))
                }
                for (k, element) in elements.enumerated() {
                    let repetition: UInt8 = k == 0 ? 0 : 1
                    if Self.isNull(element, view) {
                        guard elementNullable else { throw fail(column.name, "element \(k) is null in a list whose elements are not nullable") }
                        out.append(.init(leaf: leaf, definition: own + 1, repetition: repetition, value: nil))
                    } else {
                        let v = try scalar(element, type, view, "\(column.name)[\(k)]")
                        out.append(.init(leaf: leaf, definition: own + 1 + (elementNullable ? 1 : 0), repetition: repetition, value: v))
                    }
                }
            case .structure(let fields):
                if isNull {
                    for f in fields.indices { out.append(.init(leaf: leaf + f, definition: 0, repetition: 0, value: nil)) }
                    continue
                }
                guard case .node(let object) = value, view.kind(object) == .object else {
                    throw fail(column.name, "expected an object, got \(value.type(in: view).withArticle)")
                }
                for (f, field) in fields.enumerated() {
                    let member = view.member(of: object, key: field.name).map { ExpressionValue.node($0) } ?? .null
                    let name = "\(column.name).\(field.name)"
                    if Self.isNull(member, view) {
                        guard field.nullable else { throw fail(name, "null or missing in a field that is not nullable") }
                        out.append(.init(leaf: leaf + f, definition: own, repetition: 0, value: nil))
                    } else {
                        out.append(.init(leaf: leaf + f, definition: own + (field.nullable ? 1 : 0), repetition: 0,
                                         value: try scalar(member, field.type, view, name)))
                    }
                }
            }
        }
    }

    private static func isNull(_ value: ExpressionValue, _ view: JSONView) -> Bool {
        switch value {
        case .null: return true
        case .node(let i): return view.kind(i) == .null
        default: return false
        }
    }

    /// The text of a string value (unescaped), or nil when it is not a string.
    private static func string(_ value: ExpressionValue, _ view: JSONView) -> [UInt8]? {
        switch value {
        case .string(let b): return b
        case .node(let i) where view.kind(i) == .string: return view.unescaped(i)
        default: return nil
        }
    }

    /// A number's exact source text (a computed number's shortest form).
    private static func numberText(_ value: ExpressionValue, _ view: JSONView) -> [UInt8]? {
        switch value {
        case .int(let v): return Array(String(v).utf8)
        case .double(let v):
            var writer = JSONWriter(capacity: 24)
            writer.write(v)
            return writer.bytes
        case .node(let i) where view.kind(i) == .number: return Array(view.rawBytes(i))
        default: return nil
        }
    }

    private func scalar(_ value: ExpressionValue, _ type: ParquetType, _ view: JSONView, _ column: String) throws(OutputRecordError) -> ParquetRows.Scalar {
        let got = { value.type(in: view).withArticle }
        switch type {
        case .bool:
            switch value {
            case .bool(let b): return .int(b ? 1 : 0)
            case .node(let i) where view.kind(i) == .true: return .int(1)
            case .node(let i) where view.kind(i) == .false: return .int(0)
            default:
                if let text = Self.string(value, view), let b = ParquetValueParsing.bool(text) { return .int(b ? 1 : 0) }
                throw fail(column, "expected a bool, got \(got())")
            }
        case .int32, .int64:
            let v: Int64
            if let n = value.number(in: view) {
                switch n {
                case .int(let i): v = i
                case .double(let d):
                    guard d.isFinite, d == d.rounded(), let i = Int64(exactly: d) else { throw fail(column, "\(Self.show(value, view)) is not an integer in range") }
                    v = i
                }
            } else if let text = Self.string(value, view) {
                guard let i = ParquetValueParsing.integer(text) else { throw fail(column, "string \(Self.show(value, view)) is not an integer") }
                v = i
            } else {
                throw fail(column, "expected an integer, got \(got())")
            }
            if type == .int32 && Int32(exactly: v) == nil { throw fail(column, "\(v) is out of int32 range") }
            return .int(v)
        case .double:
            if let n = value.number(in: view) {
                let d = n.doubleValue
                guard d.isFinite else { throw fail(column, "\(Self.show(value, view)) is out of double range") }
                return .double(d)
            }
            if let text = Self.string(value, view), let d = ParquetValueParsing.double(text) { return .double(d) }
            throw fail(column, "expected a number, got \(got())")
        case .string:
            if let text = Self.string(value, view) { return .bytes(text) }
            switch value {
            case .bool(let b): return .bytes(Array((b ? "true" : "false").utf8))
            case .node(let i) where view.kind(i) == .true || view.kind(i) == .false: return .bytes(Array(view.rawBytes(i)))
            default:
                if let text = Self.numberText(value, view) { return .bytes(text) }
                throw fail(column, "expected a string, got \(got())")
            }
        case .binary:
            if let text = Self.string(value, view) { return .bytes(text) }
            throw fail(column, "expected a string, got \(got())")
        case .date:
            if let text = Self.string(value, view) {
                guard let d = ParquetValueParsing.date(text) else { throw fail(column, "\(Self.show(value, view)) is not a date (YYYY-MM-DD)") }
                return .int(Int64(d))
            }
            if case .int(let d)? = value.number(in: view), let days = Int32(exactly: d) { return .int(Int64(days)) }
            throw fail(column, "expected a date, got \(got())")
        case .timestamp(let micros, let utc):
            if let text = Self.string(value, view) {
                switch ParquetValueParsing.timestamp(text, micros: micros, utc: utc) {
                case .success(let t): return .int(t)
                case .failure(.precision): throw fail(column, "\(Self.show(value, view)) has digits finer than \(micros ? "microseconds" : "milliseconds")")
                case .failure(.offset): throw fail(column, "\(Self.show(value, view)) has a UTC offset, but the column is local (timestamp(..., local))")
                case .failure: throw fail(column, "\(Self.show(value, view)) is not an ISO 8601 timestamp")
                }
            }
            if case .int(let t)? = value.number(in: view) { return .int(t) }
            throw fail(column, "expected a timestamp, got \(got())")
        case .decimal(let precision, let scale):
            guard let text = Self.numberText(value, view) ?? Self.string(value, view) else {
                throw fail(column, "expected a decimal number, got \(got())")
            }
            switch ParquetValueParsing.decimal(text, precision: precision, scale: scale) {
            case .success(let unscaled):
                if let width = type.fixedLength {
                    var out = [UInt8](repeating: 0, count: width)
                    var v = unscaled
                    for k in stride(from: width - 1, through: 0, by: -1) {
                        out[k] = UInt8(truncatingIfNeeded: v)
                        v >>= 8
                    }
                    return .bytes(out)
                }
                return .int(Int64(unscaled))
            case .failure(.scale): throw fail(column, "\(Self.show(value, view)) has more than \(scale) decimal places")
            case .failure(.precision): throw fail(column, "\(Self.show(value, view)) does not fit decimal(\(precision),\(scale))")
            case .failure: throw fail(column, "\(Self.show(value, view)) is not a decimal number")
            }
        }
    }

    /// A value as error messages quote it (cut at 40 bytes).
    private static func show(_ value: ExpressionValue, _ view: JSONView) -> String {
        var writer = JSONWriter(capacity: 64)
        value.write(to: &writer, view: view)
        let text = String(decoding: writer.bytes, as: UTF8.self)
        return text.count > 40 ? String(text.prefix(40)) + "…" : text
    }
}
