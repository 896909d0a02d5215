/// A batch ready to write: its records encoded per output (see ``OutputPiece``) and its
/// error-report lines, encoded by a stage worker so the sink only appends bytes.
package struct EncodedBatch: Sendable {
    package var file: Int
    var index: Int
    var pieces: [OutputPiece]
    package var errorLines: [UInt8]
    var recordsIn: Int
    var recordsOut: Int
    var recordsFailed: Int
    var recordsFiltered: Int
    var recordsDropped: Int = 0
    var recordsCreated: Int = 0
    /// Set when a stage asked to stop the run at this batch (see ``SinkError/stopped(_:)``).
    package var fatal: String?
    /// Records that matched no route (included in `recordsFiltered`).
    var recordsUnrouted: Int = 0
    /// Error lines by stage and kind (``RunSummary/ErrorCounts/key(stage:kind:)``).
    var errorKinds: [String: Int] = [:]

    /// The bytes it holds while it waits for the sink's input order: its encoded output
    /// (a file format's rows, roughly) and error lines (``AdmissionGate/park(bytes:)``).
    var heldBytes: Int {
        pieces.reduce(errorLines.count) { $0 + $1.bytes.count + ($1.rows?.byteSize ?? 0) }
    }
}
