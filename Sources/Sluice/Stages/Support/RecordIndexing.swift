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
        let source = bytes  // no copy: a second reference, read while `self` is mutated
        let fileIndex = file
        func fail(_ i: Int, _ slot: RecordSlot, _ message: String, raw: Bool) {
            let text = Array(source[slot.start..<slot.end])
            failed[i] = RecordError(
                file: context.filePaths[fileIndex], stage: stage, kind: kind, message: message,
                line: slot.line > 0 ? slot.line : nil, offset: slot.offset,
                record: raw ? .raw(text, truncated: false) : .json(text))
        }
        indexPendingRecords(pendingBytes: pendingBytes, maxDepth: maxDepth) { i, slot, failure in
            switch failure {
            case .syntax(let error):
                fail(i, slot, "invalid JSON: \(error.message) (byte \(error.offset) of the record)", raw: true)
            case .notAnObject(let rootKind):
                fail(i, slot, "the top-level value is \(rootKind.article), not an object", raw: false)
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

