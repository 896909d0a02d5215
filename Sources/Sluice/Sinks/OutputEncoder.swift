#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SluiceCore
import SluiceStages

/// Turns a finished batch into the bytes the sink appends: the kept records routed to
/// their outputs (and partitions), each group encoded in its output's format (one gzip
/// member per group when compressing), and error-report lines.
///
/// Encoding runs on the last stage's worker threads, so compression — the costliest
/// step of writing — scales with that stage's `workers`, and the sink thread only
/// appends bytes in order. Concatenated gzip members form one valid gzip file (the
/// layout pigz writes). The encoder never writes framing that depends on a batch's place
/// in its file (a JSON array's `[`, the commas between batches, a CSV header): the sink
/// knows that place and writes those bytes (see ``OutputStream``).
///
/// Routing, partitioning and CSV columns evaluate expressions over the record; an
/// evaluation error fails the record (kind `transform`, stage `output`), and a record
/// that matches no route is dropped and counted as unrouted (and filtered).
package struct OutputEncoder: Sendable {
    let routes: [OutputRoute]
    /// Each route's format (see ``OutputFormat``).
    let formats: [OutputFormat]
    /// Each route's record separator and terminator (row formats), read once.
    private let recordFraming: [(separator: [UInt8], terminator: [UInt8])]
    let filePaths: [String]
    var maxDepth: Int = JSONIndexer.defaultMaxDepth

    package init(routes: [OutputRoute], filePaths: [String], maxDepth: Int = JSONIndexer.defaultMaxDepth) {
        self.routes = routes
        self.formats = routes.map { OutputFormat(spec: $0.spec) }
        self.recordFraming = formats.map { format in
            if case .row(let row) = format { return (row.recordSeparator, row.recordTerminator) }
            return ([], [])
        }
        self.filePaths = filePaths
        self.maxDepth = maxDepth
    }

    /// The tape-free fast path: one unconditional, unpartitioned output whose records are
    /// their own JSON text.
    private var fastFormat: (any RowFormat)? {
        guard routes.count == 1, routes[0].condition == nil, routes[0].spec.layout != .partitioned,
              case .row(let format) = formats[0], format.writesRecordText else { return nil }
        return format
    }

    private struct Group {
        var route: Int
        var partition: String
        var text: [UInt8] = []
        /// A file format's rows (nil for row formats).
        var rows: (any FileFormatRows)?
        var records = 0
    }

    package func encode(_ batch: Batch) -> EncodedBatch {
        var batch = batch
        var groups: [Group] = []
        var unrouted = 0
        if let format = fastFormat {
            var group = Group(route: 0, partition: "")
            // One output of a record-text format: records go straight into the group's text.
            let separator = format.recordSeparator, terminator = format.recordTerminator
            if separator.isEmpty, terminator == [0x0A], let lines = Self.backToBackLines(of: batch.records, in: batch.bytes) {
                group.text = lines
            } else {
                batch.bytes.withUnsafeBufferPointer { bytes in
                    group.text = Self.text(of: batch.records, in: bytes, separator: separator, terminator: terminator)
                }
            }
            group.records = batch.records.count
            if group.records > 0 { groups.append(group) }
        } else {
            let context = StageContext(stageName: "output", filePaths: filePaths)
            batch.indexRecords(maxDepth: maxDepth, stage: "output", kind: .transform, context: context)
            let snapshot = Batch(file: batch.file, index: batch.index, bytes: batch.bytes, tape: batch.tape)
            let slots = batch.records
            var groupIndex: [String: Int] = [:]
            var row: [UInt8] = []
            snapshot.withView { view in
                batch.sift(context: context) { i in
                    let root = Int(slots[i].tapeStart)
                    do throws(OutputRecordError) {
                        var chosen: Int?
                        for (r, route) in routes.enumerated() {
                            guard let condition = route.condition else { chosen = r; break }
                            switch try Self.evaluate(condition, root, view) {
                            case .bool(true): chosen = r
                            case .bool(false), .null: continue
                            case let other:
                                return .fail(.transform, "route '\(route.name)': 'when' returned \(other.type(in: view).withArticle)")
                            }
                            break
                        }
                        guard let r = chosen else {
                            unrouted += 1
                            return .drop
                        }
                        let spec = routes[r].spec
                        var partition = ""
                        if spec.layout == .partitioned {
                            var segments: [String] = []
                            for (name, expression) in zip(spec.partitionBy, spec.compiledPartitions) {
                                let value = try Self.evaluate(expression, root, view)
                                segments.append(RecordFormats.partitionSegment(name: name, value: RecordFormats.text(of: value, in: view)))
                            }
                            partition = segments.joined(separator: "/")
                        }
                        let key = "\(r)/\(partition)"
                        var newRows: (any FileFormatRows)?
                        // Encode first: a record that fails creates no group.
                        switch formats[r] {
                        case .row(let format):
                            row.removeAll(keepingCapacity: true)
                            try format.appendRecord(root, in: view, to: &row)
                        case .file(let format):
                            let rows = groupIndex[key].map { groups[$0].rows! } ?? format.makeRows()
                            try format.add(root, in: view, to: rows)
                            if groupIndex[key] == nil { newRows = rows }
                        }
                        let g: Int
                        if let existing = groupIndex[key] {
                            g = existing
                        } else {
                            g = groups.count
                            groupIndex[key] = g
                            groups.append(Group(route: r, partition: partition, rows: newRows))
                        }
                        if groups[g].rows == nil {  // a row format
                            let framing = recordFraming[r]
                            if groups[g].records > 0 && !framing.separator.isEmpty { groups[g].text.append(contentsOf: framing.separator) }
                            groups[g].text.append(contentsOf: row)
                            if !framing.terminator.isEmpty { groups[g].text.append(contentsOf: framing.terminator) }
                        }
                        groups[g].records += 1
                        return .keep
                    } catch {
                        return .fail(error.kind, error.message)
                    }
                }
            }
        }

        let pieces = groups.map { group -> OutputPiece in
            let spec = routes[group.route].spec
            var bytes: [UInt8]
            if group.rows != nil {
                bytes = []  // a file format compresses its own pages
            } else {
                bytes = spec.encode(group.text)   // one member (frame) of the output's codec, or as is
            }
            return OutputPiece(route: group.route, partition: group.partition, bytes: bytes, rows: group.rows, records: group.records)
        }
        var errorLines: [UInt8] = []
        // Framing errors come first in a batch, parse and stage errors later: order
        // the lines by their place in the source so the report reads top to bottom.
        let ordered = batch.errors.enumerated().sorted {
            ($0.element.offset ?? 0, $0.offset) < ($1.element.offset ?? 0, $1.offset)
        }
        var errorKinds: [String: Int] = [:]
        for (_, error) in ordered {
            errorLines.append(contentsOf: ErrorLineEncoder.encode(error))
            errorKinds[RunSummary.ErrorCounts.key(stage: error.stage, kind: error.kind.rawValue), default: 0] += 1
        }
        return EncodedBatch(
            file: batch.file, index: batch.index, pieces: pieces, errorLines: errorLines,
            recordsIn: batch.recordsIn, recordsOut: batch.records.count,
            recordsFailed: batch.errors.count, recordsFiltered: batch.filtered,
            recordsDropped: batch.dropped, recordsCreated: batch.created, fatal: batch.fatal,
            recordsUnrouted: unrouted, errorKinds: errorKinds)
    }

    /// Each record's text on one line (``appendCompact(_:to:)``), `separator` between
    /// records and `terminator` after each.
    ///
    /// Usually no record spans lines (NDJSON input, stages' own writing), and the line
    /// breaks in the buffer lie between records (a rewriting stage ends each record with
    /// one): one cursor per break byte, moved with `memchr` over the whole buffer, says
    /// which records hold one — no call at all for CRs when there are none — and a record
    /// without one is its bytes less surrounding blanks, copied with `memcpy` into storage
    /// sized once. (`appendCompact` and an array append per record cost 13 M of 700 M
    /// instructions on the 20 MB bench.)
    static func text(of records: [RecordSlot], in bytes: UnsafeBufferPointer<UInt8>, separator: [UInt8], terminator: [UInt8]) -> [UInt8] {
        guard let base = bytes.baseAddress, !records.isEmpty else {
            return records.isEmpty ? [] : Array(records.indices.map { ($0 > 0 ? separator : []) + terminator }.joined())
        }
        var capacity = records.count * (separator.count + terminator.count)
        for slot in records { capacity += slot.end - slot.start }
        let count = bytes.count
        /// The position of the next `byte` at or after `from`, or `count`.
        func next(_ byte: Int32, from: Int) -> Int {
            guard from < count, let hit = memchr(base + from, byte, count - from) else { return count }
            return UnsafePointer(hit.assumingMemoryBound(to: UInt8.self)) - base
        }
        return [UInt8](unsafeUninitializedCapacity: capacity) { out, written in
            let target = out.baseAddress!
            var at = 0
            func put(_ piece: UnsafeBufferPointer<UInt8>) {
                guard let from = piece.baseAddress, piece.count > 0 else { return }
                memcpy(target + at, from, piece.count)
                at += piece.count
            }
            var lf = next(0x0A, from: 0), cr = next(0x0D, from: 0)
            var previousStart = 0
            let newline = terminator == [0x0A]
            separator.withUnsafeBufferPointer { separator in
                terminator.withUnsafeBufferPointer { terminator in
                    for (i, slot) in records.enumerated() {
                        if i > 0 { put(separator) }
                        if slot.start < previousStart {  // slots out of order: look again from here
                            lf = next(0x0A, from: slot.start)
                            cr = next(0x0D, from: slot.start)
                        }
                        previousStart = slot.start
                        while lf < slot.start { lf = next(0x0A, from: lf + 1) }
                        while cr < slot.start { cr = next(0x0D, from: cr + 1) }
                        if lf >= slot.end && cr >= slot.end {
                            var start = slot.start, end = slot.end
                            while start < end, base[start] == 0x20 || base[start] == 0x09 { start += 1 }
                            while end > start, base[end - 1] == 0x20 || base[end - 1] == 0x09 { end -= 1 }
                            put(UnsafeBufferPointer(start: base + start, count: end - start))
                        } else {
                            // Compacting never lengthens a record: it fits in its share.
                            var compact: [UInt8] = []
                            appendCompact(UnsafeBufferPointer(rebasing: bytes[slot.start..<slot.end]), to: &compact)
                            compact.withUnsafeBufferPointer { put($0) }
                        }
                        if newline { target[at] = 0x0A; at += 1 } else { put(terminator) }
                    }
                }
            }
            written = at
        }
    }

    /// The NDJSON text of records that already lie in `bytes` as lines, or nil.
    ///
    /// When every record is one line without blanks at its ends, followed by its line
    /// break, and the next record starts right after it (what `select` and the other
    /// rewriting stages write), ``text(of:in:separator:terminator:)`` would copy the span
    /// from the first record to past the last byte for byte: that span is the text. It is
    /// `bytes` itself when it covers the whole buffer (no copy at all), a copy of the
    /// span otherwise. Checked per record in O(1), then one count of the span's line
    /// breaks, 16 bytes at a time: exactly one (the record's own) per record.
    static func backToBackLines(of records: [RecordSlot], in bytes: [UInt8]) -> [UInt8]? {
        guard let first = records.first, let last = records.last else { return nil }
        let count = bytes.count
        let laidOut = bytes.withUnsafeBufferPointer { buffer -> Bool in
            guard let base = buffer.baseAddress else { return false }
            var expected = first.start
            for slot in records {
                guard slot.start == expected, slot.end > slot.start, slot.end < count, base[slot.end] == 0x0A else { return false }
                let head = base[slot.start], tail = base[slot.end &- 1]
                guard head != 0x20, head != 0x09, tail != 0x20, tail != 0x09 else { return false }
                expected = slot.end &+ 1
            }
            return lineBreaks(in: base + first.start, count: expected &- first.start) == records.count
        }
        guard laidOut else { return nil }
        if first.start == 0 && last.end &+ 1 == count { return bytes }
        return Array(bytes[first.start...last.end])
    }

    /// How many LF and CR bytes the range holds: 64 bytes a step into two 16-lane byte
    /// counters (two adds per step each, so at most 127 steps before they are added up).
    static func lineBreaks(in base: UnsafePointer<UInt8>, count n: Int) -> Int {
        let raw = UnsafeRawPointer(base)
        let lf = SIMD16<UInt8>(repeating: 0x0A), cr = SIMD16<UInt8>(repeating: 0x0D)
        /// 255 (all ones) in each lane that holds a line break: subtracting it adds 1.
        @inline(__always) func breaks(_ offset: Int) -> SIMD16<UInt8> {
            let v = raw.loadUnaligned(fromByteOffset: offset, as: SIMD16<UInt8>.self)
            return unsafeBitCast((v .== lf) .| (v .== cr), to: SIMD16<UInt8>.self)
        }
        var total = 0
        var i = 0
        while n &- i >= 64 {
            let steps = Swift.min(127, (n &- i) / 64)
            var a = SIMD16<UInt8>(), b = SIMD16<UInt8>()
            for _ in 0..<steps {
                a &-= breaks(i)
                b &-= breaks(i &+ 16)
                a &-= breaks(i &+ 32)
                b &-= breaks(i &+ 48)
                i &+= 64
            }
            for lane in 0..<16 { total &+= Int(a[lane]) &+ Int(b[lane]) }
        }
        while i < n {
            if base[i] == 0x0A || base[i] == 0x0D { total &+= 1 }
            i &+= 1
        }
        return total
    }

    private static func evaluate(_ expression: CompiledExpression, _ root: Int, _ view: JSONView) throws(OutputRecordError) -> ExpressionValue {
        do {
            return try expression.evaluate(record: root, in: view)
        } catch {
            throw OutputRecordError(kind: .transform, message: error.message)
        }
    }
}

/// The records of one batch bound for one output (and partition), encoded.
struct OutputPiece: Sendable {
    /// Index of the route in the run's routes.
    var route: Int
    /// The partition's directory (`country=DE`), "" outside the partitioned layout.
    var partition: String
    /// Encoded records of a row format: one gzip member when compressing.
    var bytes: [UInt8]
    /// The rows of a file format (then `bytes` is empty).
    var rows: (any FileFormatRows)? = nil
    package var records: Int
}

/// One error-report line (**contract**):
/// `{"file":…,"stage":…,"kind":…,"message":…,"line":N,"offset":N,"record":…}` and a
/// newline; `line`/`offset` only where known; `record` only where there is one;
/// `truncated: true` when `record` holds only the start of an over-long record;
/// `discarded: N` on a failed file's line (its records withheld from the output).
enum ErrorLineEncoder {
    package static func encode(_ error: RecordError, discarded: Int? = nil) -> [UInt8] {
        var writer = JSONWriter(capacity: 256)
        writer.beginObject()
        writer.key("file"); writer.write(error.file)
        writer.key("stage"); writer.write(error.stage)
        writer.key("kind"); writer.write(error.kind.rawValue)
        writer.key("message"); writer.write(error.message)
        if let line = error.line { writer.key("line"); writer.write(line) }
        if let offset = error.offset { writer.key("offset"); writer.write(offset) }
        if let discarded { writer.key("discarded"); writer.write(discarded) }
        switch error.record {
        case .none:
            break
        case .json(let bytes):
            var compact: [UInt8] = []
            compact.reserveCapacity(bytes.count)
            bytes.withUnsafeBufferPointer { appendCompact($0, to: &compact) }
            writer.key("record"); writer.writeRaw(compact)
        case .raw(let bytes, let truncated):
            writer.key("record"); writer.writeLossyString(bytes)
            if truncated { writer.key("truncated"); writer.write(true) }
        }
        writer.endObject()
        writer.endRecord()
        return writer.bytes
    }
}
