import SluiceCore

extension Batch {
    /// Indexes every record not yet on the tape; a record that is not valid JSON, or
    /// whose top-level value is not an object, becomes an error line and leaves the batch.
    ///
    /// The runtime calls this before the first stage (errors of kind `parse`, stage
    /// `input`) and before any later stage that reads records whose text a previous
    /// stage rewrote.
    ///
    /// - Complexity: O(bytes of the unindexed records).
    package mutating func indexRecords(maxDepth: Int, stage: String, kind: ErrorKind, context: StageContext) {
        var pendingBytes = 0
        for slot in records where slot.tapeStart < 0 { pendingBytes += slot.end - slot.start }
        guard pendingBytes > 0 || records.contains(where: { $0.tapeStart < 0 }) else { return }
        var failed: [Int: RecordError] = [:]
        func fail(_ i: Int, _ slot: RecordSlot, _ message: String, raw: Bool) {
            let text = Array(bytes[slot.start..<slot.end])
            failed[i] = RecordError(
                file: context.filePaths[file], stage: stage, kind: kind, message: message,
                line: slot.line > 0 ? slot.line : nil, offset: slot.offset,
                record: raw ? .raw(text, truncated: false) : .json(text))
        }
        let origin = tape.count
        if origin + pendingBytes < Int(Int32.max) {
            // Every record's nodes go straight into one block of raw tape storage (a node
            // per byte at most), without a copy when the tape is empty (the first stage).
            var slots = records
            records = []
            let text = bytes
            text.withUnsafeBufferPointer { buffer in
                func parseAll(into storage: UnsafeMutablePointer<TapeEntry>) -> Int {
                    var writer = TapeWriter(base: storage, origin: origin)
                    for i in slots.indices where slots[i].tapeStart < 0 {
                        let slot = slots[i]
                        let root: Int
                        do {
                            root = try JSONIndexer.index(buffer, start: slot.start, end: slot.end, maxDepth: maxDepth, into: &writer)
                        } catch {
                            fail(i, slot, "invalid JSON: \(error.message) (byte \(error.offset) of the record)", raw: true)
                            continue
                        }
                        slots[i].tapeStart = Int32(root)
                        slots[i].tapeEnd = Int32(writer.index)
                        let rootKind = storage[root - origin].kind
                        if rootKind != .object {
                            fail(i, slot, "the top-level value is \(rootKind.article), not an object", raw: false)
                        }
                    }
                    return writer.count
                }
                let capacity = Swift.max(pendingBytes, 1)
                if origin == 0 {
                    tape = [TapeEntry](unsafeUninitializedCapacity: capacity) { storage, count in
                        count = parseAll(into: storage.baseAddress!)
                    }
                } else {
                    let storage = UnsafeMutablePointer<TapeEntry>.allocate(capacity: capacity)
                    defer { storage.deallocate() }
                    let count = parseAll(into: storage)
                    tape.append(contentsOf: UnsafeBufferPointer(start: storage, count: count))
                }
            }
            records = slots
        } else {
            for i in records.indices where records[i].tapeStart < 0 {
                let slot = records[i]
                do {
                    try indexRecord(at: i, maxDepth: maxDepth)
                } catch {
                    fail(i, slot, "invalid JSON: \(error.message) (byte \(error.offset) of the record)", raw: true)
                    continue
                }
                let rootKind = tape[Int(records[i].tapeStart)].kind
                if rootKind != .object {
                    fail(i, slot, "the top-level value is \(rootKind.article), not an object", raw: false)
                }
            }
        }
        guard !failed.isEmpty else { return }
        var kept: [RecordSlot] = []
        kept.reserveCapacity(records.count - failed.count)
        for (i, slot) in records.enumerated() {
            if let error = failed[i] { errors.append(error) } else { kept.append(slot) }
        }
        records = kept
    }
}

