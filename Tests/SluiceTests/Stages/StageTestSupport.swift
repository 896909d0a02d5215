@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// A batch of the NDJSON `text` (one record per non-empty line), every record indexed.
func ndjsonBatch(_ text: String) throws -> Batch {
    let bytes = Array(text.utf8)
    var slots: [RecordSlot] = []
    var lineStart = 0
    var line = 1
    for i in 0...bytes.count where i == bytes.count || bytes[i] == UInt8(ascii: "\n") {
        if i > lineStart { slots.append(RecordSlot(start: lineStart, end: i, line: line, offset: lineStart)) }
        lineStart = i + 1
        line += 1
    }
    var batch = Batch(file: 0, index: 0, bytes: bytes, records: slots)
    for slot in batch.records.indices { try batch.indexRecord(at: slot) }
    return batch
}

/// The JSON text of every live record.
func recordTexts(_ batch: Batch) -> [String] {
    batch.records.map { String(decoding: batch.bytes[$0.start..<$0.end], as: UTF8.self) }
}

/// Error lines in a compact comparable form: `line kind: message`.
func errorLines(_ batch: Batch) -> [String] {
    batch.errors.map { "\($0.line ?? 0) \($0.kind.rawValue): \($0.message)" }
}

let testContext = StageContext(stageName: "test", filePaths: ["orders.ndjson"])
