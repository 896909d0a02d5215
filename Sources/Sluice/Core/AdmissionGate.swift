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
/// - Backpressure: `acquire` blocks a non-head reader while `capacity` tickets are out.
/// - Cancellation: `cancel()` wakes every waiter; `acquire` then returns false.
package final class AdmissionGate: Sendable {
    private struct State: Sendable {
        var inFlight = 0
        var headFile = 0
        var isCancelled = false
    }

    let capacity: Int
    private let state = LockedBox(State())

    package init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Takes one ticket for a batch of `file`, waiting while the gate is full.
    /// - Returns: false when cancelled.
    package func acquire(file: Int) -> Bool {
        let capacity = self.capacity
        return state.withLock(when: { $0.isCancelled || file == $0.headFile || $0.inFlight < capacity }) { state in
            if state.isCancelled { return false }
            state.inFlight += 1
            return true
        }
    }

    /// Returns `count` tickets (batches committed or dropped).
    package func release(_ count: Int = 1) {
        guard count > 0 else { return }
        state.withLockNotifying { $0.inFlight -= count }
    }

    /// The sink has committed every file below `file`.
    package func advanceHead(to file: Int) {
        state.withLockNotifying { $0.headFile = file }
    }

    package func cancel() {
        state.withLockNotifying { $0.isCancelled = true }
    }
}
