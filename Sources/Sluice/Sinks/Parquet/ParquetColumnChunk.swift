/// Writes one column chunk of a row group: an optional dictionary page and one data
/// page (v1: repetition levels, definition levels, values), each compressed, and the
/// chunk's metadata with statistics.
struct ParquetColumnChunk {
    var encodings: [Int32]
    var numValues: Int64
    var uncompressedSize: Int64
    var compressedSize: Int64
    var dataPageOffset: Int64
    var dictionaryPageOffset: Int64?
    var minValue: [UInt8]?
    var maxValue: [UInt8]?
    var nullCount: Int64

    /// Statistics longer than this are left out (a reader then cannot skip by them).
    static let maxStatisticsBytes = 4096

    /// Encodes `values` of `leaf` at file offset `offset`, appending the bytes to `out`.
    package static func write(_ values: ParquetLeafValues, leaf: ParquetLeaf, options: ParquetFormat.Settings,
                      offset: Int, into out: inout [UInt8]) throws(SinkError) -> ParquetColumnChunk {
        let levelCount = values.definitions.count
        let valueCount = values.valueCount
        var chunk = ParquetColumnChunk(encodings: [], numValues: Int64(levelCount), uncompressedSize: 0, compressedSize: 0,
                                       dataPageOffset: 0, dictionaryPageOffset: nil, minValue: nil, maxValue: nil,
                                       nullCount: Int64(values.definitions.reduce(0) { $0 + ($1 < leaf.maxDefinition ? 1 : 0) }))
        chunk.statistics(values, leaf.type)
        let start = out.count

        var body: [UInt8] = []
        body.reserveCapacity(values.byteSize + 16)
        if leaf.maxRepetition > 0 { ParquetEncoding.levels(values.repetitions[...], maxLevel: leaf.maxRepetition, into: &body) }
        if leaf.maxDefinition > 0 { ParquetEncoding.levels(values.definitions[...], maxLevel: leaf.maxDefinition, into: &body) }

        var encoding = ParquetEncoding.plain
        if leaf.type != .bool, valueCount > 0, let (dictionary, indices, count) = dictionaryEncode(values, leaf.type, limit: options.dictionaryBytes) {
            // Dictionary page first.
            chunk.dictionaryPageOffset = Int64(offset + out.count - start)
            try page(type: 2, body: dictionary, values: count, encoding: ParquetEncoding.plain, options: options, chunk: &chunk, into: &out)
            let width = max(1, ParquetEncoding.bitWidth(count - 1))
            body.append(UInt8(width))
            ParquetEncoding.hybrid(indices, bitWidth: width, into: &body)
            encoding = ParquetEncoding.rleDictionary
            chunk.encodings = [ParquetEncoding.plain, ParquetEncoding.rle, ParquetEncoding.rleDictionary]
        } else {
            plain(values, leaf.type, into: &body)
            chunk.encodings = [ParquetEncoding.plain, ParquetEncoding.rle]
        }
        chunk.dataPageOffset = Int64(offset + out.count - start)
        try page(type: 0, body: body, values: levelCount, encoding: encoding, options: options, chunk: &chunk, into: &out)
        return chunk
    }

    /// Appends one page: its Thrift header and its compressed body.
    private static func page(type: Int32, body: [UInt8], values: Int, encoding: Int32, options: ParquetFormat.Settings,
                             chunk: inout ParquetColumnChunk, into out: inout [UInt8]) throws(SinkError) {
        let compressed = try ParquetCompression.compress(body, codec: options.codec, level: options.level)
        guard body.count < Int32.max, compressed.count < Int32.max else {
            throw SinkError.limit("a parquet page would pass 2 GiB; lower output.parquet.row_group_bytes")
        }
        var header = ThriftCompactWriter()
        header.structBody { h in
            h.field(1, i32: type)
            h.field(2, i32: Int32(body.count))
            h.field(3, i32: Int32(compressed.count))
            if type == 0 {
                h.field(5) { d in
                    d.field(1, i32: Int32(values))
                    d.field(2, i32: encoding)
                    d.field(3, i32: ParquetEncoding.rle)
                    d.field(4, i32: ParquetEncoding.rle)
                }
            } else {
                h.field(7) { d in
                    d.field(1, i32: Int32(values))
                    d.field(2, i32: encoding)
                }
            }
        }
        out.append(contentsOf: header.bytes)
        out.append(contentsOf: compressed)
        chunk.uncompressedSize += Int64(header.bytes.count + body.count)
        chunk.compressedSize += Int64(header.bytes.count + compressed.count)
    }

    /// PLAIN: bools bit-packed, fixed-width numbers little-endian, byte arrays with a
    /// 4-byte length, wide decimals as their fixed bytes.
    static func plain(_ values: ParquetLeafValues, _ type: ParquetType, into out: inout [UInt8]) {
        switch type {
        case .bool:
            var byte: UInt8 = 0
            for (i, v) in values.ints.enumerated() {
                if v != 0 { byte |= 1 << UInt8(i & 7) }
                if i & 7 == 7 {
                    out.append(byte)
                    byte = 0
                }
            }
            if values.ints.count & 7 != 0 { out.append(byte) }
        case .double:
            for v in values.doubles { ParquetEncoding.appendLE(v.bitPattern, &out) }
        case .string, .binary:
            var begin = 0
            for end in values.ends {
                ParquetEncoding.appendLE(UInt32(end - begin), &out)
                out.append(contentsOf: values.bytes[begin..<end])
                begin = end
            }
        default:
            if type.fixedLength != nil {
                out.append(contentsOf: values.bytes)
            } else if type.physical == 1 {
                for v in values.ints { ParquetEncoding.appendLE(Int32(truncatingIfNeeded: v), &out) }
            } else {
                for v in values.ints { ParquetEncoding.appendLE(v, &out) }
            }
        }
    }

    /// The dictionary (PLAIN), the index of every value and the entry count; nil when the
    /// dictionary would pass `limit` bytes or hardly repeats (then PLAIN is smaller).
    private static func dictionaryEncode(_ values: ParquetLeafValues, _ type: ParquetType, limit: Int)
        -> (dictionary: [UInt8], indices: [UInt32], count: Int)? {
        var indices: [UInt32] = []
        indices.reserveCapacity(values.valueCount)
        var entries = ParquetLeafValues()
        var size = 0
        let width = type.physical == 1 ? 4 : 8
        if !values.ends.isEmpty {
            var index: [ArraySlice<UInt8>: UInt32] = [:]
            var begin = 0
            for (seen, end) in values.ends.enumerated() {
                if seen & 1023 == 1023 && hardlyRepeats(index.count, seen) { return nil }
                let key = values.bytes[begin..<end]
                if let k = index[key] {
                    indices.append(k)
                } else {
                    let k = UInt32(index.count)
                    index[key] = k
                    indices.append(k)
                    entries.bytes.append(contentsOf: key)
                    entries.ends.append(entries.bytes.count)
                    size += key.count + 4
                    if size > limit { return nil }
                }
                begin = end
            }
        } else if !values.doubles.isEmpty {
            var index: [UInt64: UInt32] = [:]
            for (seen, v) in values.doubles.enumerated() {
                if seen & 1023 == 1023 && hardlyRepeats(index.count, seen) { return nil }
                if let k = index[v.bitPattern] {
                    indices.append(k)
                } else {
                    let k = UInt32(index.count)
                    index[v.bitPattern] = k
                    indices.append(k)
                    entries.doubles.append(v)
                    size += 8
                    if size > limit { return nil }
                }
            }
        } else {
            var index: [Int64: UInt32] = [:]
            for (seen, v) in values.ints.enumerated() {
                if seen & 1023 == 1023 && hardlyRepeats(index.count, seen) { return nil }
                if let k = index[v] {
                    indices.append(k)
                } else {
                    let k = UInt32(index.count)
                    index[v] = k
                    indices.append(k)
                    entries.ints.append(v)
                    size += width
                    if size > limit { return nil }
                }
            }
        }
        let count = entries.valueCount
        if values.valueCount > 16 && hardlyRepeats(count, values.valueCount) { return nil }
        var dictionary: [UInt8] = []
        plain(entries, type, into: &dictionary)
        return (dictionary, indices, count)
    }

    /// Mostly distinct values (more than 3 in 4 new): the indices would only add to
    /// PLAIN's size. Checked as the dictionary grows too, so that a column of unique
    /// values gives up early instead of hashing the whole chunk.
    private static func hardlyRepeats(_ distinct: Int, _ seen: Int) -> Bool {
        distinct * 4 > seen * 3
    }

    /// min/max of the non-null values in the type's order (signed integers, doubles with
    /// -0 as min and +0 as max, unsigned bytes for strings, signed big-endian decimals).
    private mutating func statistics(_ values: ParquetLeafValues, _ type: ParquetType) {
        guard values.valueCount > 0 else { return }
        if !values.ints.isEmpty {
            let lo = values.ints.min()!, hi = values.ints.max()!
            var a: [UInt8] = [], b: [UInt8] = []
            if type == .bool {
                a = [UInt8(lo)]; b = [UInt8(hi)]
            } else if type.physical == 1 {
                ParquetEncoding.appendLE(Int32(truncatingIfNeeded: lo), &a); ParquetEncoding.appendLE(Int32(truncatingIfNeeded: hi), &b)
            } else {
                ParquetEncoding.appendLE(lo, &a); ParquetEncoding.appendLE(hi, &b)
            }
            minValue = a; maxValue = b
        } else if !values.doubles.isEmpty {
            var lo = values.doubles.min()!, hi = values.doubles.max()!
            if lo == 0 { lo = -0.0 }
            if hi == 0 { hi = 0.0 }
            var a: [UInt8] = [], b: [UInt8] = []
            ParquetEncoding.appendLE(lo.bitPattern, &a); ParquetEncoding.appendLE(hi.bitPattern, &b)
            minValue = a; maxValue = b
        } else {
            let signed = type.fixedLength != nil
            func less(_ x: ArraySlice<UInt8>, _ y: ArraySlice<UInt8>) -> Bool {
                if signed, let fx = x.first, let fy = y.first, fx != fy { return (fx ^ 0x80) < (fy ^ 0x80) }
                return x.lexicographicallyPrecedes(y)
            }
            var begin = 0
            var lo: ArraySlice<UInt8>?, hi: ArraySlice<UInt8>?
            for end in values.ends {
                let v = values.bytes[begin..<end]
                if lo == nil || less(v, lo!) { lo = v }
                if hi == nil || less(hi!, v) { hi = v }
                begin = end
            }
            if let lo, let hi, lo.count <= Self.maxStatisticsBytes, hi.count <= Self.maxStatisticsBytes {
                minValue = Array(lo); maxValue = Array(hi)
            }
        }
    }
}
