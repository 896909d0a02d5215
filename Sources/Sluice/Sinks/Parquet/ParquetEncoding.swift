/// Parquet's value encodings: PLAIN, and the RLE / bit-packing hybrid that levels and
/// dictionary indices use.
enum ParquetEncoding {
    static let plain: Int32 = 0
    static let plainDictionary: Int32 = 2
    static let rle: Int32 = 3
    static let rleDictionary: Int32 = 8

    /// Bits needed for values up to `max`.
    static func bitWidth(_ max: Int) -> Int {
        max == 0 ? 0 : Int.bitWidth - max.leadingZeroBitCount
    }

    private static func varint(_ value: Int, _ out: inout [UInt8]) {
        var v = UInt64(value)
        while v >= 0x80 {
            out.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    /// The RLE / bit-packed hybrid of `values` at `bitWidth`: runs of 8 or more equal
    /// values as RLE runs, everything between as bit-packed groups of 8 (only the last
    /// group padded).
    static func hybrid<C: RandomAccessCollection>(_ values: C, bitWidth: Int, into out: inout [UInt8]) where C.Element: BinaryInteger, C.Index == Int {
        let n = values.count
        let base = values.startIndex
        let valueBytes = (bitWidth + 7) / 8
        func runLength(at i: Int) -> Int {
            let v = values[base + i]
            var j = i + 1
            while j < n && values[base + j] == v { j += 1 }
            return j - i
        }
        var i = 0
        while i < n {
            let run = runLength(at: i)
            if run >= 8 {
                varint(run << 1, &out)
                var v = UInt64(values[base + i])
                for _ in 0..<valueBytes {
                    out.append(UInt8(v & 0xFF))
                    v >>= 8
                }
                i += run
                continue
            }
            // Bit-packed groups until a run of 8 starts at a group boundary.
            let start = i
            i += 8
            while i < n && runLength(at: i) < 8 { i += 8 }
            let end = min(i, n)
            let groups = (i - start) / 8
            varint(groups << 1 | 1, &out)
            var accumulator: UInt64 = 0
            var bits = 0
            for k in start..<(start + groups * 8) {
                let v = k < end ? UInt64(values[base + k]) : 0
                accumulator |= v << bits
                bits += bitWidth
                while bits >= 8 {
                    out.append(UInt8(accumulator & 0xFF))
                    accumulator >>= 8
                    bits -= 8
                }
            }
            if bits > 0 { out.append(UInt8(accumulator & 0xFF)) }
            i = min(i, n)
        }
    }

    /// Levels as a data page v1 stores them: a 4-byte little-endian length, then the hybrid.
    static func levels(_ levels: ArraySlice<UInt8>, maxLevel: UInt8, into out: inout [UInt8]) {
        let lengthAt = out.count
        out.append(contentsOf: [0, 0, 0, 0])
        hybrid(levels, bitWidth: bitWidth(Int(maxLevel)), into: &out)
        let length = UInt32(out.count - lengthAt - 4)
        for k in 0..<4 { out[lengthAt + k] = UInt8(truncatingIfNeeded: length >> (8 * k)) }
    }

    static func appendLE<T: FixedWidthInteger>(_ value: T, _ out: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
    }
}
