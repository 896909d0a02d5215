import SluiceCore

/// What reaches the sink: encoded batches from the last stage, and file endings from
/// the readers.
package enum SinkMessage: Sendable {
    case batch(EncodedBatch)
    case fileEnd(FileEnd)
    /// A file's last batch with the file's ending: one message, one hand-off, where a
    /// file of a few records made two (the reader's ending and the batch).
    case lastBatch(EncodedBatch, FileEnd)
}
