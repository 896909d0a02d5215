/// Bounds how many batches are in flight between the file readers and the sink,
/// without ever deadlocking the in-order sink.
///
/// The sink commits batches in `(file, batch)` order, so batches of later files that
/// race ahead wait in its reorder buffer. Left alone, that buffer would grow with the
/// input. The gate caps it: a reader takes a ticket per batch and the sink returns the
/// ticket once the batch is committed. The reader of the *head* file — the lowest file
/// not yet committed — is always admitted: its batches are the ones the sink is waiting
/// for, so refusing them could only deadlock, and they never wait in the buffer.
///
/// Batches waiting at the sink are also counted by the bytes they hold (their encoded
/// output: ``park(bytes:)`` as the sink takes one in, ``unpark(bytes:)`` as it commits
/// it): a reader ahead of the head file is admitted only while those bytes are under
/// `parkedByteCapacity`. So the room for later files is as many batches as their output
/// needs — small compressed batches leave a reader free to run a whole file ahead of the
/// head, large ones stop it at the byte bound — rather than a fixed count.
///
/// - Backpressure: `acquire` blocks a non-head reader while `capacity` tickets are out,
///   or while the parked bytes are at or over `parkedByteCapacity`.
/// - Cancellation: `cancel()` wakes every waiter; `acquire` then returns false.
package final class AdmissionGate: Sendable {
    private struct State: Sendable {
        var inFlight = 0
        var parkedBytes = 0
        var headFile = 0
        var isCancelled = false
    }

    let capacity: Int
    let parkedByteCapacity: Int
    private let state = LockedBox(State())

    /// - Parameters:
    ///   - capacity: Tickets out at once (batches in flight, parked ones included).
    ///   - parkedByteCapacity: Bytes the sink's waiting batches may hold before a reader
    ///     ahead of the head file waits (no byte bound by default).
    package init(capacity: Int, parkedByteCapacity: Int = .max) {
        self.capacity = max(1, capacity)
        self.parkedByteCapacity = max(1, parkedByteCapacity)
    }

    /// Takes one ticket for a batch of `file`, waiting while the gate is full.
    /// - Returns: false when cancelled.
    package func acquire(file: Int) -> Bool {
        let capacity = self.capacity
        let bytes = parkedByteCapacity
        return state.withLock(when: { $0.isCancelled || file == $0.headFile || ($0.inFlight < capacity && $0.parkedBytes < bytes) }) { state in
            if state.isCancelled { return false }
            state.inFlight += 1
            return true
        }
    }

    /// As ``acquire(file:)``, waiting at most `seconds`: nil when no ticket came in time
    /// (a reader that also runs stage work looks for some meanwhile).
    package func acquire(file: Int, waitingAtMost seconds: Double) -> Bool? {
        let capacity = self.capacity
        let bytes = parkedByteCapacity
        return state.withLock(when: { $0.isCancelled || file == $0.headFile || ($0.inFlight < capacity && $0.parkedBytes < bytes) },
                              timeout: seconds) { state, admitted -> Bool? in
            if state.isCancelled { return false }
            guard admitted else { return nil }
            state.inFlight += 1
            return true
        }
    }

    /// Returns `count` tickets (batches committed or dropped).
    package func release(_ count: Int = 1) {
        guard count > 0 else { return }
        state.withLockNotifying { $0.inFlight -= count }
    }

    /// The sink took in a batch holding `bytes` (it waits there until its turn).
    package func park(bytes: Int) {
        guard bytes > 0 else { return }
        state.withLock { $0.parkedBytes += bytes }
    }

    /// The sink wrote a batch that ``park(bytes:)`` counted.
    package func unpark(bytes: Int) {
        guard bytes > 0 else { return }
        state.withLockNotifying { $0.parkedBytes -= bytes }
    }

    /// Bytes parked now (tests, diagnosis).
    package var parkedBytes: Int { state.withLock { $0.parkedBytes } }

    /// The sink has committed every file below `file`.
    package func advanceHead(to file: Int) {
        state.withLockNotifying { $0.headFile = file }
    }

    package func cancel() {
        state.withLockNotifying { $0.isCancelled = true }
    }
}
