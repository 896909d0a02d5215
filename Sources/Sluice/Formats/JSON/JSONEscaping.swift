/// JSON string escaping shared by every writer of JSON text (``JSONWriter`` into a Swift
/// array, the XML record builder into its own buffer): one scanner, one escape table.
enum JSONEscaping {
    /// Walks `n` bytes at `p`, handing clean runs to `clean` (start, count) and each byte
    /// that must be escaped (`"`, `\`, control characters) to `special`, in order.
    /// Eight bytes are checked at once where none needs escaping.
    @inline(__always)
    package static func scan(_ p: UnsafePointer<UInt8>, count n: Int,
                     clean: (UnsafePointer<UInt8>, Int) -> Void, special: (UInt8) -> Void) {
        let ones: UInt64 = 0x0101_0101_0101_0101
        var run = 0  // start of the pending clean run
        var i = 0
        while i < n {
            if i + 8 <= n {
                let w = UInt64(littleEndian: UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self))
                let quote = w ^ (ones &* 0x22)
                let slash = w ^ (ones &* 0x5C)
                let hits = (((quote &- ones) & ~quote) | ((slash &- ones) & ~slash) | ((w &- ones &* 0x20) & ~w)) & (ones &* 0x80)
                if hits == 0 {
                    i += 8
                    continue
                }
                i += hits.trailingZeroBitCount >> 3
            }
            let c = p[i]
            guard c < 0x20 || c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") else {
                i += 1
                continue
            }
            if i > run { clean(p + run, i - run) }
            special(c)
            i += 1
            run = i
        }
        if n > run { clean(p + run, n - run) }
    }

    /// The escape for `c` (`\"`, `\\`, `\b \f \n \r \t`, else `\u00XX`) as up to six bytes
    /// packed little-endian, and its length.
    @inline(__always)
    static func escape(_ c: UInt8) -> (packed: UInt64, count: Int) {
        let short: UInt8
        switch c {
        case UInt8(ascii: "\""): short = UInt8(ascii: "\"")
        case UInt8(ascii: "\\"): short = UInt8(ascii: "\\")
        case 0x08: short = UInt8(ascii: "b")
        case 0x0C: short = UInt8(ascii: "f")
        case 0x0A: short = UInt8(ascii: "n")
        case 0x0D: short = UInt8(ascii: "r")
        case 0x09: short = UInt8(ascii: "t")
        default: short = 0
        }
        if short != 0 { return (UInt64(UInt8(ascii: "\\")) | UInt64(short) << 8, 2) }
        let hex: StaticString = "0123456789abcdef"
        let digits = hex.utf8Start
        let packed = UInt64(UInt8(ascii: "\\")) | UInt64(UInt8(ascii: "u")) << 8 | UInt64(UInt8(ascii: "0")) << 16
            | UInt64(UInt8(ascii: "0")) << 24 | UInt64(digits[Int(c >> 4)]) << 32 | UInt64(digits[Int(c & 0xF)]) << 40
        return (packed, 6)
    }
}
