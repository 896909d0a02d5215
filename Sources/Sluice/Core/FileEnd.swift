/// A reader finished a file. It travels the batches' path: through every stage (see
/// ``StageScheduler/fileEnded(_:batches:)``) into the sink queue.
package struct FileEnd: Sendable {
    package var file: Int
    /// Batches it emitted (the sink waits for all of them).
    package var batches: Int
    /// A file-level fault: the file's records are withheld and this line reported.
    package var failure: RecordError?
    package var fileBytes: Int
    package var decodedBytes: Int
    /// The file's content fingerprint, when it was read to the end.
    package var fingerprint: UInt64? = nil

    package init(file: Int, batches: Int, failure: RecordError? = nil, fileBytes: Int, decodedBytes: Int, fingerprint: UInt64? = nil) {
        self.file = file
        self.batches = batches
        self.failure = failure
        self.fileBytes = fileBytes
        self.decodedBytes = decodedBytes
        self.fingerprint = fingerprint
    }
}
