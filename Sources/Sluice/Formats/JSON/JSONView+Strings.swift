/// Decoding and comparing string nodes.
///
/// Unescaping happens on demand. An escaped surrogate that does not pair up decodes to
/// U+FFFD (see ``JSONIndexer``).
extension JSONView {
    /// Whether string node `i`, unescaped, equals `other` byte for byte.
    ///
    /// Allocates nothing; a string without escapes is compared with `memcmp`.
    @inlinable @inline(__always)
    public func stringEquals(_ i: Int, _ other: UnsafeBufferPointer<UInt8>) -> Bool {
        let e = tape[i]
        guard e.kind == .string else { return false }
        let start = Int(e.start) + 1
        let end = Int(e.end) - 1
        if e.flags & TapeEntry.hasEscapes == 0 {
            let length = end - start
            guard length == other.count else { return false }
            if length == 0 { return true }
            return memoryEquals(bytes.baseAddress! + start, other.baseAddress!, length)
        }
        return escapedEquals(start, end, other)
    }

    /// Whether string node `i`, unescaped, equals `other` byte for byte.
    public func stringEquals(_ i: Int, _ other: [UInt8]) -> Bool {
        other.withUnsafeBufferPointer { stringEquals(i, $0) }
    }

    /// Whether string node `i`, unescaped, equals `other` (compared as UTF-8 bytes).
    public func stringEquals(_ i: Int, _ other: String) -> Bool {
        var other = other
        return other.withUTF8 { stringEquals(i, $0) }
    }

    /// The decoded text of string node `i`, or nil when it is not a string.
    public func string(_ i: Int) -> String? {
        let e = tape[i]
        guard e.kind == .string else { return nil }
        if e.flags & TapeEntry.hasEscapes == 0 {
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[Int(e.start) + 1..<Int(e.end) - 1]), as: UTF8.self)
        }
        return String(decoding: unescaped(i), as: UTF8.self)
    }

    /// The decoded UTF-8 bytes of string node `i` (empty when it is not a string).
    public func unescaped(_ i: Int) -> [UInt8] {
        let e = tape[i]
        guard e.kind == .string else { return [] }
        var out: [UInt8] = []
        out.reserveCapacity(Int(e.end - e.start))
        var j = Int(e.start) + 1
        let end = Int(e.end) - 1
        while j < end {
            let c = bytes[j]
            if c != UInt8(ascii: "\\") {
                out.append(c)
                j += 1
                continue
            }
            let (scalar, after) = decodeEscape(at: j)
            j = after
            let (packed, length) = JSONView.utf8(scalar)
            for k in 0..<length { out.append(UInt8(truncatingIfNeeded: packed >> (8 * k))) }
        }
        return out
    }

    @usableFromInline
    func escapedEquals(_ start: Int, _ end: Int, _ other: UnsafeBufferPointer<UInt8>) -> Bool {
        var j = start
        var o = 0
        while j < end {
            let c = bytes[j]
            if c != UInt8(ascii: "\\") {
                guard o < other.count, other[o] == c else { return false }
                o += 1
                j += 1
                continue
            }
            let (scalar, after) = decodeEscape(at: j)
            j = after
            let (packed, length) = JSONView.utf8(scalar)
            guard o + length <= other.count else { return false }
            for k in 0..<length where other[o + k] != UInt8(truncatingIfNeeded: packed >> (8 * k)) {
                return false
            }
            o += length
        }
        return o == other.count
    }

    /// Decodes the (validated) escape whose backslash is at `j`.
    /// - Returns: The Unicode scalar value and the index after the escape (after both
    ///   halves of a surrogate pair).
    private func decodeEscape(at j: Int) -> (scalar: UInt32, next: Int) {
        switch bytes[j + 1] {
        case UInt8(ascii: "b"): return (0x08, j + 2)
        case UInt8(ascii: "f"): return (0x0C, j + 2)
        case UInt8(ascii: "n"): return (0x0A, j + 2)
        case UInt8(ascii: "r"): return (0x0D, j + 2)
        case UInt8(ascii: "t"): return (0x09, j + 2)
        case UInt8(ascii: "u"): break
        case let c: return (UInt32(c), j + 2)  // '"', '\\', '/'
        }
        let unit = hex4(at: j + 2)
        if unit & 0xF800 != 0xD800 { return (unit, j + 6) }
        // A high surrogate followed by an escaped low surrogate makes one scalar; any other
        // surrogate stands alone and decodes to U+FFFD.
        if unit < 0xDC00, j + 12 <= bytes.count, bytes[j + 6] == UInt8(ascii: "\\"), bytes[j + 7] == UInt8(ascii: "u") {
            let low = hex4(at: j + 8)
            if low & 0xFC00 == 0xDC00 {
                return (0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00), j + 12)
            }
        }
        return (0xFFFD, j + 6)
    }

    private func hex4(at j: Int) -> UInt32 {
        var v: UInt32 = 0
        for k in 0..<4 { v = v << 4 | (JSONParser.hexValue(bytes[j + k]) ?? 0) }
        return v
    }

    /// The UTF-8 encoding of `scalar`, packed little-endian (first byte lowest), and its length.
    static func utf8(_ scalar: UInt32) -> (packed: UInt32, length: Int) {
        switch scalar {
        case ..<0x80:
            return (scalar, 1)
        case ..<0x800:
            return ((0xC0 | scalar >> 6) | (0x80 | scalar & 0x3F) << 8, 2)
        case ..<0x10000:
            return ((0xE0 | scalar >> 12) | (0x80 | scalar >> 6 & 0x3F) << 8 | (0x80 | scalar & 0x3F) << 16, 3)
        default:
            return ((0xF0 | scalar >> 18) | (0x80 | scalar >> 12 & 0x3F) << 8 | (0x80 | scalar >> 6 & 0x3F) << 16 | (0x80 | scalar & 0x3F) << 24, 4)
        }
    }
}

/// Byte equality of two ranges; short keys dominate, so compare words, never bytes one by
/// one: 8-byte words and a last word that overlaps the one before it, two overlapping
/// 4-byte words for 4–7 bytes, and the first, middle and last byte for 1–3. Every load
/// stays inside both ranges.
/// Public and inlinable only so that ``JSONView/member(of:key:)`` can inline into stages.
@inlinable @inline(__always)
public func memoryEquals(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ count: Int) -> Bool {
    let x = UnsafeRawPointer(a), y = UnsafeRawPointer(b)
    if count >= 8 {
        var k = 0
        while k + 8 < count {
            if x.loadUnaligned(fromByteOffset: k, as: UInt64.self) != y.loadUnaligned(fromByteOffset: k, as: UInt64.self) { return false }
            k += 8
        }
        return x.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self) == y.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
    }
    if count >= 4 {
        return x.loadUnaligned(as: UInt32.self) == y.loadUnaligned(as: UInt32.self)
            && x.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self) == y.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self)
    }
    if count == 0 { return true }
    return a[0] == b[0] && a[count >> 1] == b[count >> 1] && a[count - 1] == b[count - 1]
}
