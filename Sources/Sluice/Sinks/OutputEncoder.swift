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
struct OutputEncoder: Sendable {
    let routes: [OutputRoute]
    let filePaths: [String]
    var maxDepth: Int = JSONIndexer.defaultMaxDepth

    init(routes: [OutputRoute], filePaths: [String], maxDepth: Int = JSONIndexer.defaultMaxDepth) {
        self.routes = routes
        self.filePaths = filePaths
        self.maxDepth = maxDepth
    }

    /// The single-output form (tests and callers without routes).
    init(compression: OutputConfig.Compression, level: Int, filePaths: [String]) {
        var spec = OutputSpec()
        spec.compression = compression
        spec.level = level
        self.init(routes: [OutputRoute(name: "", condition: nil, directory: "", spec: spec)], filePaths: filePaths)
    }

    private var needsTape: Bool {
        routes.count > 1 || routes.contains { $0.condition != nil || $0.spec.format == .csv || $0.spec.layout == .partitioned }
    }

    private struct Group {
        var route: Int
        var partition: String
        var text: [UInt8] = []
        var records = 0
    }

    func encode(_ batch: Batch) -> EncodedBatch {
        var batch = batch
        var groups: [Group] = []
        var unrouted = 0
        if needsTape {
            let context = StageContext(stageName: "output", filePaths: filePaths)
            batch.indexRecords(maxDepth: maxDepth, stage: "output", kind: .transform, context: context)
            let snapshot = Batch(file: batch.file, index: batch.index, bytes: batch.bytes, tape: batch.tape)
            let slots = batch.records
            var groupIndex: [String: Int] = [:]
            var row: [UInt8] = []
            snapshot.withView { view in
                batch.sift(context: context) { i in
                    let root = Int(slots[i].tapeStart)
                    do throws(EvaluationError) {
                        var chosen: Int?
                        for (r, route) in routes.enumerated() {
                            guard let condition = route.condition else { chosen = r; break }
                            switch try condition.evaluate(record: root, in: view) {
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
                                let value = try expression.evaluate(record: root, in: view)
                                segments.append(RecordFormats.partitionSegment(name: name, value: RecordFormats.text(of: value, in: view)))
                            }
                            partition = segments.joined(separator: "/")
                        }
                        row.removeAll(keepingCapacity: true)
                        switch spec.format {
                        case .csv:
                            for (c, column) in spec.compiledColumns.enumerated() {
                                if c > 0 { row.append(UInt8(ascii: ",")) }
                                RecordFormats.appendCSVField(RecordFormats.text(of: try column.evaluate(record: root, in: view), in: view), to: &row)
                            }
                            row.append(contentsOf: [0x0D, 0x0A])
                        case .ndjson, .json:
                            appendCompact(view.rawBytes(root), to: &row)
                        }
                        let key = "\(r)/\(partition)"
                        let g: Int
                        if let existing = groupIndex[key] {
                            g = existing
                        } else {
                            g = groups.count
                            groupIndex[key] = g
                            groups.append(Group(route: r, partition: partition))
                        }
                        Self.appendRecord(row, format: spec.format, to: &groups[g])
                        return .keep
                    } catch {
                        return .fail(.transform, error.message)
                    }
                }
            }
        } else {
            var group = Group(route: 0, partition: "")
            group.text.reserveCapacity(batch.bytes.count + batch.records.count)
            // One output, NDJSON or JSON: records go straight into the group's text.
            let isJSON = routes[0].spec.format == .json
            batch.bytes.withUnsafeBufferPointer { bytes in
                for slot in batch.records {
                    if isJSON && group.records > 0 { group.text.append(contentsOf: [UInt8(ascii: ","), UInt8(ascii: "\n")]) }
                    appendCompact(UnsafeBufferPointer(rebasing: bytes[slot.start..<slot.end]), to: &group.text)
                    if !isJSON { group.text.append(UInt8(ascii: "\n")) }
                    group.records += 1
                }
            }
            if group.records > 0 { groups.append(group) }
        }

        let pieces = groups.map { group -> OutputPiece in
            let spec = routes[group.route].spec
            let bytes = spec.encode(group.text)
            return OutputPiece(route: group.route, partition: group.partition, bytes: bytes, records: group.records)
        }
        var errorLines: [UInt8] = []
        // Framing errors come first in a batch, parse and stage errors later: order
        // the lines by their place in the source so the report reads top to bottom.
        let ordered = batch.errors.enumerated().sorted {
            ($0.element.offset ?? 0, $0.offset) < ($1.element.offset ?? 0, $1.offset)
        }
        for (_, error) in ordered {
            errorLines.append(contentsOf: ErrorLineEncoder.encode(error))
        }
        return EncodedBatch(
            file: batch.file, index: batch.index, pieces: pieces, errorLines: errorLines,
            recordsIn: batch.recordsIn, recordsOut: batch.records.count,
            recordsFailed: batch.errors.count, recordsFiltered: batch.filtered,
            recordsDropped: batch.dropped, recordsCreated: batch.created, fatal: batch.fatal,
            recordsUnrouted: unrouted)
    }

    /// Adds one encoded record to a group: NDJSON and CSV rows end their own line; JSON
    /// array elements are joined by `,\n` (the sink writes what goes between batches).
    private static func appendRecord(_ row: [UInt8], format: OutputSpec.Format, to group: inout Group) {
        switch format {
        case .ndjson:
            group.text.append(contentsOf: row)
            group.text.append(UInt8(ascii: "\n"))
        case .json:
            if group.records > 0 { group.text.append(contentsOf: [UInt8(ascii: ","), UInt8(ascii: "\n")]) }
            group.text.append(contentsOf: row)
        case .csv:
            group.text.append(contentsOf: row)
        }
        group.records += 1
    }
}

/// The records of one batch bound for one output (and partition), encoded.
struct OutputPiece: Sendable {
    /// Index of the route in the run's routes.
    var route: Int
    /// The partition's directory (`country=DE`), "" outside the partitioned layout.
    var partition: String
    /// Encoded records: one gzip member when compressing.
    var bytes: [UInt8]
    var records: Int
}

/// Appends valid JSON `text` on one line: without surrounding whitespace, and — when it
/// spans lines (a pretty-printed element of a JSON array) — without any whitespace
/// outside strings. Single-line text is copied byte for byte.
func appendCompact(_ text: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
    var start = 0
    var end = text.count
    while start < end, isJSONWhitespace(text[start]) { start += 1 }
    while end > start, isJSONWhitespace(text[end - 1]) { end -= 1 }
    let body = UnsafeBufferPointer(rebasing: text[start..<end])
    var spansLines = false
    for byte in body where byte == 0x0A || byte == 0x0D {
        spansLines = true
        break
    }
    guard spansLines else {
        out.append(contentsOf: body)
        return
    }
    var inString = false
    var escaped = false
    for byte in body {
        if inString {
            out.append(byte)
            if escaped {
                escaped = false
            } else if byte == UInt8(ascii: "\\") {
                escaped = true
            } else if byte == UInt8(ascii: "\"") {
                inString = false
            }
        } else if !isJSONWhitespace(byte) {
            out.append(byte)
            if byte == UInt8(ascii: "\"") { inString = true }
        }
    }
}

@inline(__always)
func isJSONWhitespace(_ byte: UInt8) -> Bool {
    byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
}

/// One error-report line (**contract**):
/// `{"file":…,"stage":…,"kind":…,"message":…,"line":N,"offset":N,"record":…}` and a
/// newline; `line`/`offset` only where known; `record` only where there is one;
/// `truncated: true` when `record` holds only the start of an over-long record;
/// `discarded: N` on a failed file's line (its records withheld from the output).
enum ErrorLineEncoder {
    static func encode(_ error: RecordError, discarded: Int? = nil) -> [UInt8] {
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
