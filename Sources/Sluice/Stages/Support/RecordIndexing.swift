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
        if tape.isEmpty { tape.reserveCapacity(bytes.count / 6) }
        var failed: [Int: RecordError] = [:]
        for i in records.indices where records[i].tapeStart < 0 {
            let slot = records[i]
            do {
                try indexRecord(at: i, maxDepth: maxDepth)
            } catch {
                failed[i] = RecordError(
                    file: context.filePaths[file], stage: stage, kind: kind,
                    message: "invalid JSON: \(error.message) (byte \(error.offset) of the record)",
                    line: slot.line > 0 ? slot.line : nil, offset: slot.offset,
                    record: .raw(Array(bytes[slot.start..<slot.end]), truncated: false))
                continue
            }
            let rootKind = tape[Int(records[i].tapeStart)].kind
            if rootKind != .object {
                failed[i] = RecordError(
                    file: context.filePaths[file], stage: stage, kind: kind,
                    message: "the top-level value is \(rootKind.article), not an object",
                    line: slot.line > 0 ? slot.line : nil, offset: slot.offset,
                    record: .json(Array(bytes[slot.start..<slot.end])))
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
