/// Appends JSON text to a byte buffer, placing the commas itself.
///
/// Call the value methods in document order; `key(_:)` inside objects. The writer puts a
/// comma before every value or key that follows another at the same level, which needs
/// no stack: right after `begin…` or a key no comma is due, after any finished value one is.
///
/// Text conventions:
/// - Strings: `"` and `\` are escaped, `\b \f \n \r \t` use their short escapes, other
///   control characters `\u00XX`; everything else, non-ASCII UTF-8 included, is written as is.
/// - `Double`: the shortest text that reads back as the same value (Swift's
///   `description`), e.g. `0.1`, `1e-05`, `1e+16`; integral values keep a fraction
///   (`3.0`, `-0.0`) so they read back as doubles. NaN and ±infinity are not JSON and are
///   written as `null`.
///
/// ```swift
/// var writer = JSONWriter()
/// writer.beginObject()
/// writer.key("id"); writer.write(42 as Int64)
/// writer.key("tags"); writer.beginArray(); writer.write("a"); writer.write("b"); writer.endArray()
/// writer.endObject()
/// writer.endRecord()  // {"id":42,"tags":["a","b"]}\n
/// ```
public struct JSONWriter: Sendable {
    /// The text written so far.
    public var bytes: [UInt8]
    /// Whether the next value or key at the current level follows another one.
    private var needsComma = false

    public init(capacity: Int = 0) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Forgets the text written so far, keeping the buffer's capacity.
    public mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        needsComma = false
    }

    /// Ends one top-level value with a newline (NDJSON); the next value starts afresh.
    public mutating func endRecord() {
        bytes.append(UInt8(ascii: "\n"))
        needsComma = false
    }

    @inline(__always)
    private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
        needsComma = true
    }

    // MARK: Containers

    public mutating func beginObject() {
        separate()
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
    }

    public mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    public mutating func beginArray() {
        separate()
        bytes.append(UInt8(ascii: "["))
        needsComma = false
    }

    public mutating func endArray() {
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    /// Writes an object key and its `:`; the value comes next.
    public mutating func key(_ key: String) {
        write(key)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    /// Writes an object key given as valid UTF-8 (unescaped) bytes, and its `:`.
    public mutating func key(utf8 key: UnsafeBufferPointer<UInt8>) {
        writeString(utf8: key)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    // MARK: Scalars

    public mutating func writeNull() {
        separate()
        append("null")
    }

    public mutating func write(_ value: Bool) {
        separate()
        append(value ? "true" : "false")
    }

    public mutating func write(_ value: Int) {
        write(Int64(value))
    }

    public mutating func write(_ value: Int64) {
        separate()
        var magnitude = value.magnitude
        // 20 digits and a sign fit in 24 bytes, filled from the end.
        var scratch: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &scratch) { digits in
            var position = digits.count
            repeat {
                position -= 1
                digits[position] = UInt8(truncatingIfNeeded: magnitude % 10) &+ UInt8(ascii: "0")
                magnitude /= 10
            } while magnitude != 0
            if value < 0 {
                position -= 1
                digits[position] = UInt8(ascii: "-")
            }
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: digits[position...]))
        }
    }

    /// Writes the shortest round-trip text of `value`; `null` for NaN and ±infinity.
    public mutating func write(_ value: Double) {
        guard value.isFinite else {
            writeNull()
            return
        }
        separate()
        bytes.append(contentsOf: value.description.utf8)
    }

    /// Writes `value` as a JSON string.
    public mutating func write(_ value: String) {
        var value = value
        value.withUTF8 { writeString(utf8: $0) }
    }

    /// Writes valid UTF-8 `text` (not yet escaped) as a JSON string.
    public mutating func writeString(utf8 text: UnsafeBufferPointer<UInt8>) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        JSONWriter.appendEscaped(text, to: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    /// Writes arbitrary bytes as a JSON string, each ill-formed UTF-8 sequence replaced by
    /// U+FFFD (used to show unparsable input in the error report).
    public mutating func writeLossyString(_ text: some Collection<UInt8>) {
        write(String(decoding: text, as: UTF8.self))
    }

    /// Writes bytes that are already valid JSON text, unchanged.
    public mutating func writeRaw(_ json: UnsafeBufferPointer<UInt8>) {
        separate()
        bytes.append(contentsOf: json)
    }

    /// Writes bytes that are already valid JSON text, unchanged.
    public mutating func writeRaw(_ json: [UInt8]) {
        separate()
        bytes.append(contentsOf: json)
    }

    /// Copies node `node`'s subtree from `view`, byte for byte.
    public mutating func write(_ view: JSONView, node: Int) {
        writeRaw(view.rawBytes(node))
    }

    /// Writes a materialised value (`.raw` text as is).
    public mutating func write(_ value: JSONValue) {
        switch value {
        case .null: writeNull()
        case .bool(let v): write(v)
        case .int(let v): write(v)
        case .double(let v): write(v)
        case .string(let v): write(v)
        case .raw(let v): writeRaw(v)
        case .array(let elements):
            beginArray()
            for element in elements { write(element) }
            endArray()
        case .object(let members):
            beginObject()
            for member in members {
                key(member.key)
                write(member.value)
            }
            endObject()
        }
    }

    @inline(__always)
    private mutating func append(_ literal: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }

    // MARK: Escaping

    /// Appends `text` with JSON string escapes, copying clean runs in bulk.
    static func appendEscaped(_ text: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        guard let p = text.baseAddress else { return }
        JSONEscaping.scan(p, count: text.count) { run, count in
            out.append(contentsOf: UnsafeBufferPointer(start: run, count: count))
        } special: { c in
            var (packed, count) = JSONEscaping.escape(c)
            for _ in 0..<count {
                out.append(UInt8(truncatingIfNeeded: packed))
                packed >>= 8
            }
        }
    }
}
