import SluiceCore
import SluiceStages

/// Byte-level pieces of the output formats: CSV fields and headers, and the directory
/// names of partitions.
enum RecordFormats {
    /// The text of an expression's value as a CSV field or a partition value: a string's
    /// unescaped content, a number's source text, `true`/`false`, an array or object as
    /// compact JSON; nil for null (and a missing field).
    static func text(of value: ExpressionValue, in view: JSONView) -> [UInt8]? {
        switch value {
        case .null:
            return nil
        case .bool(let b):
            return Array((b ? "true" : "false").utf8)
        case .int(let v):
            return Array(String(v).utf8)
        case .double(let v):
            var writer = JSONWriter(capacity: 24)
            writer.write(v)
            return writer.bytes
        case .string(let bytes):
            return bytes
        case .node(let i):
            switch view.kind(i) {
            case .null: return nil
            case .string: return view.unescaped(i)
            case .array, .object:
                var out: [UInt8] = []
                appendCompact(view.rawBytes(i), to: &out)
                return out
            default:
                return Array(view.rawBytes(i))
            }
        case .array:
            var writer = JSONWriter(capacity: 64)
            value.write(to: &writer, view: view)
            return writer.bytes
        }
    }

    /// Appends `field` as one RFC 4180 field: quoted (with `"` doubled) when it holds a
    /// comma, a quote, CR or LF.
    static func appendCSVField(_ field: [UInt8]?, to out: inout [UInt8]) {
        guard let field else { return }
        let needsQuotes = field.contains { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 0x0A || $0 == 0x0D }
        guard needsQuotes else {
            out.append(contentsOf: field)
            return
        }
        out.append(UInt8(ascii: "\""))
        for byte in field {
            if byte == UInt8(ascii: "\"") { out.append(byte) }
            out.append(byte)
        }
        out.append(UInt8(ascii: "\""))
    }

    /// The CSV header row: the column expressions' text, CRLF-terminated.
    static func csvHeader(_ columns: [String]) -> [UInt8] {
        var out: [UInt8] = []
        for (i, column) in columns.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            appendCSVField(Array(column.utf8), to: &out)
        }
        out.append(contentsOf: [0x0D, 0x0A])
        return out
    }

    static let nullPartition = "__null__"
    static let emptyPartition = "__empty__"

    /// A value as one safe directory-name component: `__null__` for null or a missing
    /// field, `__empty__` for "", otherwise the text with every byte outside
    /// `A-Za-z0-9-_.~` percent-encoded, a leading `.` encoded (so `.` and `..` never name
    /// a directory, and no partition is a hidden file), a literal `__null__`/`__empty__`
    /// encoded to stay distinct, and text longer than 200 bytes cut with an XXH64 suffix.
    static func partitionComponent(_ value: [UInt8]?) -> String {
        guard let value else { return nullPartition }
        if value.isEmpty { return emptyPartition }
        var out: [UInt8] = []
        out.reserveCapacity(value.count)
        let hex = Array("0123456789ABCDEF".utf8)
        for (i, byte) in value.enumerated() {
            let plain = (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "~")
                || (byte == UInt8(ascii: ".") && i > 0)
            if plain {
                out.append(byte)
            } else {
                out.append(contentsOf: [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 15)]])
            }
        }
        var text = String(decoding: out, as: UTF8.self)
        if text == nullPartition || text == emptyPartition { text = "%5F" + text.dropFirst() }
        if text.utf8.count > 200 {
            var cut = Array(text.utf8.prefix(180))
            if let percent = cut.suffix(2).lastIndex(of: UInt8(ascii: "%")) { cut.removeSubrange(percent...) }
            var hash = Fingerprint()
            value.withUnsafeBytes { hash.update($0) }
            text = String(decoding: cut, as: UTF8.self) + "~" + Fingerprint.hex(hash.finish())
        }
        return text
    }

    /// `name=value` for one `partition_by` expression (the name encoded the same way).
    static func partitionSegment(name: String, value: [UInt8]?) -> String {
        partitionComponent(Array(name.utf8)) + "=" + partitionComponent(value)
    }
}
