import Dispatch

/// One Parquet file: `PAR1`, row groups as they fill, then the footer (Thrift compact
/// FileMetaData: schema, row groups with their column chunks and statistics,
/// `created_by`, the run id as key-value metadata), its length and `PAR1`.
///
/// A value type (see ``FileFormatWriter``): the buffered rows are shared, immutable
/// batches, so a checkpoint copy costs an array of references.
struct ParquetFileWriter: FileFormatWriter {
    static let createdBy = "sluice (Sluice's own Parquet writer)"

    struct RowGroup {
        var columns: [ParquetColumnChunk]
        var rows: Int
        var uncompressed: Int64
        var compressed: Int64
        var offset: Int64
    }

    let settings: ParquetFormat.Settings
    let runID: String
    private var batches: [ParquetRows] = []
    /// Rows of `batches[0]` already written.
    private var firstRow = 0
    private var bufferedRows = 0
    private(set) var bufferedBytes = 0
    private var rowGroups: [RowGroup] = []
    private var position = 0

    init(settings: ParquetFormat.Settings, runID: String) {
        self.settings = settings
        self.runID = runID
    }

    mutating func start() throws(SinkError) -> [UInt8] {
        position = 4
        return Array("PAR1".utf8)
    }

    mutating func append(_ rows: any FileFormatRows) throws(SinkError) -> [UInt8] {
        guard let rows = rows as? ParquetRows, rows.count > 0 else { return [] }
        batches.append(rows)
        bufferedRows += rows.count
        bufferedBytes += rows.byteSize
        var out: [UInt8] = []
        while bufferedRows >= settings.rowGroupRows {
            try writeRowGroup(rows: settings.rowGroupRows, into: &out)
        }
        if bufferedBytes >= settings.rowGroupBytes && bufferedRows > 0 {
            try writeRowGroup(rows: bufferedRows, into: &out)
        }
        return out
    }

    mutating func finish() throws(SinkError) -> [UInt8] {
        var out: [UInt8] = []
        if bufferedRows > 0 { try writeRowGroup(rows: bufferedRows, into: &out) }
        let footer = self.footer()
        out.append(contentsOf: footer)
        ParquetEncoding.appendLE(UInt32(footer.count), &out)
        out.append(contentsOf: Array("PAR1".utf8))
        return out
    }

    /// Writes the first `count` buffered rows as one row group.
    private mutating func writeRowGroup(rows count: Int, into out: inout [UInt8]) throws(SinkError) {
        // Which rows of which buffered batches the group takes.
        var pieces: [(batch: ParquetRows, rows: Range<Int>)] = []
        var remaining = count
        while remaining > 0 {
            let batch = batches[0]
            let take = min(remaining, batch.count - firstRow)
            pieces.append((batch, firstRow..<firstRow + take))
            remaining -= take
            firstRow += take
            if firstRow == batch.count {
                batches.removeFirst()
                firstRow = 0
            }
        }
        bufferedRows -= count
        bufferedBytes = batches.enumerated().reduce(0) { sum, item in
            let (i, b) = item
            return sum + (i == 0 ? b.byteSize * (b.count - firstRow) / max(1, b.count) : b.byteSize)
        }
        // Column chunks are independent: gather, encode and compress them in parallel
        // (the sink thread would otherwise do it alone), then append them in schema
        // order, so the bytes do not depend on which finished first.
        let chunks = ParquetChunkResults(count: settings.leaves.count)
        let settings = self.settings, taken = pieces
        DispatchQueue.concurrentPerform(iterations: settings.leaves.count) { leaf in
            var values = ParquetLeafValues()
            for piece in taken { Self.gather(piece.batch.leaves[leaf], rows: piece.rows, total: piece.batch.count, into: &values) }
            var bytes: [UInt8] = []
            do throws(SinkError) {
                let chunk = try ParquetColumnChunk.write(values, leaf: settings.leaves[leaf], options: settings, offset: 0, into: &bytes)
                chunks.set(leaf, .success((chunk, bytes)))
            } catch {
                chunks.set(leaf, .failure(error))
            }
        }
        var group = RowGroup(columns: [], rows: count, uncompressed: 0, compressed: 0, offset: Int64(position))
        for result in chunks.take() {
            var (chunk, bytes) = try result.get()
            chunk.dataPageOffset += Int64(position)
            if let dictionary = chunk.dictionaryPageOffset { chunk.dictionaryPageOffset = dictionary + Int64(position) }
            position += bytes.count
            out.append(contentsOf: bytes)
            group.columns.append(chunk)
            group.uncompressed += chunk.uncompressedSize
            group.compressed += chunk.compressedSize
        }
        rowGroups.append(group)
    }

    /// Appends rows `rows` of `source` (a batch of `total` rows) to `target`.
    private static func gather(_ source: ParquetLeafValues, rows: Range<Int>, total: Int, into target: inout ParquetLeafValues) {
        let levelStart = Int(source.rowLevel[rows.lowerBound])
        let levelEnd = rows.upperBound < total ? Int(source.rowLevel[rows.upperBound]) : source.definitions.count
        let valueStart = Int(source.rowValue[rows.lowerBound])
        let valueEnd = rows.upperBound < total ? Int(source.rowValue[rows.upperBound]) : source.valueCount
        target.definitions.append(contentsOf: source.definitions[levelStart..<levelEnd])
        target.repetitions.append(contentsOf: source.repetitions[levelStart..<levelEnd])
        if !source.ints.isEmpty { target.ints.append(contentsOf: source.ints[valueStart..<valueEnd]) }
        if !source.doubles.isEmpty { target.doubles.append(contentsOf: source.doubles[valueStart..<valueEnd]) }
        if !source.ends.isEmpty && valueEnd > valueStart {
            let byteStart = valueStart == 0 ? 0 : source.ends[valueStart - 1]
            let byteEnd = source.ends[valueEnd - 1]
            let base = target.bytes.count - byteStart
            target.bytes.append(contentsOf: source.bytes[byteStart..<byteEnd])
            for end in source.ends[valueStart..<valueEnd] { target.ends.append(end + base) }
        }
    }

    // MARK: Footer

    private func footer() -> [UInt8] {
        var w = ThriftCompactWriter()
        let leaves = settings.leaves
        w.structBody { m in
            m.field(1, i32: 1)
            var elements: [(inout ThriftCompactWriter) -> Void] = []
            elements.append { e in
                e.field(4, string: "schema")
                e.field(5, i32: Int32(settings.columns.count))
            }
            for column in settings.columns {
                let repetition: Int32 = column.nullable ? 1 : 0
                switch column.shape {
                case .primitive(let type):
                    elements.append { Self.primitive(&$0, name: column.name, type: type, repetition: repetition) }
                case .list(let type, let elementNullable):
                    elements.append { e in
                        e.field(3, i32: repetition)
                        e.field(4, string: column.name)
                        e.field(5, i32: 1)
                        e.field(6, i32: 3)  // ConvertedType LIST
                        e.field(10) { l in l.field(3) { _ in } }  // LogicalType LIST
                    }
                    elements.append { e in
                        e.field(3, i32: 2)  // REPEATED
                        e.field(4, string: "list")
                        e.field(5, i32: 1)
                    }
                    elements.append { Self.primitive(&$0, name: "element", type: type, repetition: elementNullable ? 1 : 0) }
                case .structure(let fields):
                    elements.append { e in
                        e.field(3, i32: repetition)
                        e.field(4, string: column.name)
                        e.field(5, i32: Int32(fields.count))
                    }
                    for field in fields {
                        elements.append { Self.primitive(&$0, name: field.name, type: field.type, repetition: field.nullable ? 1 : 0) }
                    }
                }
            }
            m.field(2, structList: elements) { e, body in body(&e) }
            m.field(3, i64: Int64(rowGroups.reduce(0) { $0 + $1.rows }))
            m.field(4, structList: rowGroups) { g, group in
                g.field(1, structList: Array(zip(leaves, group.columns))) { c, item in
                    let (leaf, chunk) = item
                    c.field(2, i64: chunk.dictionaryPageOffset ?? chunk.dataPageOffset)
                    c.field(3) { md in
                        md.field(1, i32: leaf.type.physical)
                        md.field(2, i32List: chunk.encodings)
                        md.field(3, stringList: leaf.path)
                        md.field(4, i32: settings.codec.thriftValue)
                        md.field(5, i64: chunk.numValues)
                        md.field(6, i64: chunk.uncompressedSize)
                        md.field(7, i64: chunk.compressedSize)
                        md.field(9, i64: chunk.dataPageOffset)
                        if let dictionary = chunk.dictionaryPageOffset { md.field(11, i64: dictionary) }
                        md.field(12) { s in
                            s.field(3, i64: chunk.nullCount)
                            if let max = chunk.maxValue { s.field(5, binary: max) }
                            if let min = chunk.minValue { s.field(6, binary: min) }
                        }
                    }
                }
                g.field(2, i64: group.uncompressed)
                g.field(3, i64: Int64(group.rows))
                g.field(5, i64: group.offset)
                g.field(6, i64: group.compressed)
            }
            m.field(5, structList: [("sluice.run_id", runID)]) { kv, item in
                kv.field(1, string: item.0)
                kv.field(2, string: item.1)
            }
            m.field(6, string: Self.createdBy)
            m.field(7, structList: leaves) { order, _ in order.field(1) { _ in } }  // TYPE_ORDER
        }
        return w.bytes
    }

    /// A primitive SchemaElement: physical type, repetition, and logical/converted type.
    private static func primitive(_ e: inout ThriftCompactWriter, name: String, type: ParquetType, repetition: Int32) {
        e.field(1, i32: type.physical)
        if let length = type.fixedLength { e.field(2, i32: Int32(length)) }
        e.field(3, i32: repetition)
        e.field(4, string: name)
        switch type {
        case .string:
            e.field(6, i32: 0)  // UTF8
            e.field(10) { l in l.field(1) { _ in } }
        case .date:
            e.field(6, i32: 6)
            e.field(10) { l in l.field(6) { _ in } }
        case .timestamp(let micros, let utc):
            if utc { e.field(6, i32: micros ? 10 : 9) }
            e.field(10) { l in
                l.field(8) { t in
                    t.field(1, bool: utc)
                    t.field(2) { u in u.field(micros ? 2 : 1) { _ in } }
                }
            }
        case .decimal(let p, let s):
            e.field(6, i32: 5)
            e.field(7, i32: Int32(s))
            e.field(8, i32: Int32(p))
            e.field(10) { l in
                l.field(5) { d in
                    d.field(1, i32: Int32(s))
                    d.field(2, i32: Int32(p))
                }
            }
        default:
            break
        }
    }
}

/// The encoded column chunks of one row group, filled by parallel encoders.
final class ParquetChunkResults: @unchecked Sendable {
    // Safe to share: each slot is written by exactly one iteration of concurrentPerform,
    // and read only after it returns (which orders the writes before the reads); the
    // slots are raw memory, so no array is uniqued or checked for exclusive access
    // from several threads.
    typealias Chunk = Result<(ParquetColumnChunk, [UInt8]), SinkError>
    private let slots: UnsafeMutableBufferPointer<Chunk?>

    init(count: Int) {
        slots = .allocate(capacity: count)
        slots.initialize(repeating: nil)
    }

    deinit {
        _ = slots.deinitialize()
        slots.deallocate()
    }

    func set(_ index: Int, _ result: Chunk) {
        slots[index] = result
    }

    func take() -> [Chunk] {
        slots.map { $0! }
    }
}
