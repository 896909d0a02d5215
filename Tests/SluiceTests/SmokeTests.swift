import Testing
@testable import Sluice

@Test func batchStartsUnindexed() {
    let b = Batch(file: 0, index: 0, records: [RecordSlot(start: 0, end: 2, line: 1, offset: 0)])
    #expect(!b.isIndexed)
}
