@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// A one-record batch holding `text`, indexed.
func indexedBatch(_ text: String, maxDepth: Int = JSONIndexer.defaultMaxDepth) throws(JSONSyntaxError) -> Batch {
    let bytes = Array(text.utf8)
    var batch = Batch(file: 0, index: 0, bytes: bytes, records: [RecordSlot(start: 0, end: bytes.count, line: 1, offset: 0)])
    try batch.indexRecord(at: 0, maxDepth: maxDepth)
    return batch
}

/// Indexes `bytes` alone; returns the error, or nil when it is valid.
func syntaxError(_ bytes: [UInt8], maxDepth: Int = JSONIndexer.defaultMaxDepth) -> JSONSyntaxError? {
    var tape: [TapeEntry] = []
    do {
        _ = try bytes.withUnsafeBufferPointer { buffer throws(JSONSyntaxError) in
            try JSONIndexer.index(buffer, start: 0, end: buffer.count, maxDepth: maxDepth, into: &tape)
        }
        return nil
    } catch {
        return error
    }
}

/// Runs `body` with a view of `text` and its root.
func withRoot<R>(_ text: String, _ body: (JSONView, Int) throws -> R) throws -> R {
    let batch = try indexedBatch(text)
    return try batch.withView { view in try body(view, Int(batch.records[0].tapeStart)) }
}
