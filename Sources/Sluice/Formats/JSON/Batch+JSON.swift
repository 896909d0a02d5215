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

    /// Why ``indexPendingRecords(pendingBytes:maxDepth:onFailure:)`` could not take a record.
    package enum IndexFailure {
        /// The text is not one valid JSON value.
        case syntax(JSONSyntaxError)
        /// The text is valid JSON whose top-level value is not an object (it stays on the tape).
        case notAnObject(JSONKind)
    }

    /// Indexes every record whose `tapeStart` is negative, all of them into one block of
    /// tape storage, and calls `onFailure` with the slot index of each record that is not
    /// valid JSON or not an object (in slot order) and its slot as it was before indexing;
    /// the caller decides what becomes of them. `onFailure` must not touch this batch (it is
    /// being mutated); take a copy of ``bytes`` beforehand.
    ///
    /// It lives here, beside the parser, so the parser inlines into the per-record loop
    /// (from another target every record paid a call and the writer's accessors did not
    /// inline: ~17 M instructions of 872 M on the bench's 20 MB, callgrind).
    ///
    /// A syntax failure leaves its slot unindexed; a non-object root is indexed.
    ///
    /// - Parameter pendingBytes: The bytes of the unindexed records (their node bound).
    /// - Complexity: O(bytes of the unindexed records).
    package mutating func indexPendingRecords(pendingBytes: Int, maxDepth: Int, onFailure: (Int, RecordSlot, IndexFailure) -> Void) {
        let origin = tape.count
        guard origin + pendingBytes < Int(Int32.max) else {
            for i in records.indices where records[i].tapeStart < 0 {
                let slot = records[i]
                do {
                    try indexRecord(at: i, maxDepth: maxDepth)
                } catch {
                    onFailure(i, slot, .syntax(error))
                    continue
                }
                let rootKind = tape[Int(records[i].tapeStart)].kind
                if rootKind != .object { onFailure(i, slot, .notAnObject(rootKind)) }
            }
            return
        }
        // Every record's nodes go straight into one block of raw tape storage (a node per
        // byte at most), without a copy when the tape is empty (the first stage).
        var slots = records
        records = []
        let text = bytes
        text.withUnsafeBufferPointer { buffer in
            // Inline: out of line, its captured `slots` costs a dynamic exclusivity check
            // per access (swift_beginAccess; +2 to +7 M instructions on the bench's 20 MB,
            // bench/RESULTS.md), and the compiler's choice moves with the parser's size.
            @inline(__always)
            func parseAll(into storage: UnsafeMutablePointer<TapeEntry>) -> Int {
                var writer = TapeWriter(base: storage, origin: origin)
                for i in slots.indices where slots[i].tapeStart < 0 {
                    let slot = slots[i]
                    let root: Int
                    do {
                        root = try JSONIndexer.index(buffer, start: slot.start, end: slot.end, maxDepth: maxDepth, into: &writer)
                    } catch {
                        onFailure(i, slot, .syntax(error))
                        continue
                    }
                    slots[i].tapeStart = Int32(root)
                    slots[i].tapeEnd = Int32(writer.index)
                    let rootKind = storage[root - origin].kind
                    if rootKind != .object { onFailure(i, slot, .notAnObject(rootKind)) }
                }
                return writer.count
            }
            let capacity = Swift.max(pendingBytes, 1)
            if origin == 0 {
                tape = [TapeEntry](unsafeUninitializedCapacity: capacity) { storage, count in
                    count = parseAll(into: storage.baseAddress!)
                }
            } else {
                let storage = UnsafeMutablePointer<TapeEntry>.allocate(capacity: capacity)
                defer { storage.deallocate() }
                let count = parseAll(into: storage)
                tape.append(contentsOf: UnsafeBufferPointer(start: storage, count: count))
            }
        }
        records = slots
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
    // Inlinable: called from another module, a generic `withView` took each stage's record
    // loop through unspecialised closure contexts (sift's decide closure a real call per record).
    @inlinable
    public func withView<R, E: Error>(_ body: (JSONView) throws(E) -> R) throws(E) -> R {
        try bytes.withUnsafeBufferPointer { (bytes) throws(E) -> R in
            try tape.withUnsafeBufferPointer { (tape) throws(E) -> R in
                try body(JSONView(bytes: bytes, tape: tape))
            }
        }
    }
}
