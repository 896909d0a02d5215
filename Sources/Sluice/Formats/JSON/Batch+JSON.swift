/// Indexing a batch's records and reading them through a ``JSONView``.
extension Batch {
    /// Indexes the JSON text of `records[slot]` onto ``tape`` and records where its nodes are.
    ///
    /// On success the slot's `tapeStart` is its root node and `tapeEnd` is one past its last
    /// node. On error the tape and the slot are left as they were.
    ///
    /// - Throws: ``JSONSyntaxError``, its offset relative to the record's first byte.
    public mutating func indexRecord(at slot: Int, maxDepth: Int = JSONIndexer.defaultMaxDepth) throws(JSONSyntaxError) {
        let record = records[slot]
        // A second reference to the bytes (no copy) keeps the buffer read apart from the
        // tape write, so the two accesses to `self` never overlap.
        let text = bytes
        let root = try text.withUnsafeBufferPointer { buffer throws(JSONSyntaxError) in
            try JSONIndexer.index(buffer, start: record.start, end: record.end, maxDepth: maxDepth, into: &tape)
        }
        guard tape.count <= Int(Int32.max) else {
            tape.removeSubrange(root...)
            throw JSONSyntaxError(message: "batch tape beyond 2^31 nodes", offset: 0)
        }
        records[slot].tapeStart = Int32(root)
        records[slot].tapeEnd = Int32(tape.count)
    }

    /// Calls `body` with a read view over this batch's bytes and tape.
    ///
    /// The view must not escape `body`. A record's root node is its slot's `tapeStart`.
    ///
    /// ```swift
    /// let country = batch.withView { view in
    ///     view.member(of: Int(batch.records[0].tapeStart), path: ["customer", "country"]).flatMap(view.string)
    /// }
    /// ```
    public func withView<R, E: Error>(_ body: (JSONView) throws(E) -> R) throws(E) -> R {
        try bytes.withUnsafeBufferPointer { (bytes) throws(E) -> R in
            try tape.withUnsafeBufferPointer { (tape) throws(E) -> R in
                try body(JSONView(bytes: bytes, tape: tape))
            }
        }
    }
}
