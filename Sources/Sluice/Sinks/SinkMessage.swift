import SluiceCore

/// What reaches the sink: encoded batches from the last stage, and file endings from
/// the readers.
package enum SinkMessage: Sendable {
    case batch(EncodedBatch)
    case fileEnd(FileEnd)
}
