/// A reader finished a file. It travels the batches' path: through every stage (see
/// ``StageScheduler/fileEnded(_:batches:)``) into the sink queue.
struct FileEnd: Sendable {
    var file: Int
    /// Batches it emitted (the sink waits for all of them).
    var batches: Int
    /// A file-level fault: the file's records are withheld and this line reported.
    var failure: RecordError?
    var fileBytes: Int
    var decodedBytes: Int
    /// The file's content fingerprint, when it was read to the end.
    var fingerprint: UInt64? = nil
}
