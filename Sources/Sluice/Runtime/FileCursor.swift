import SluiceCore

/// Hands out file indices in order to reader threads, so the lowest file not yet
/// committed (the sink's head file) is always being read.
final class FileCursor: Sendable {
    private struct State: Sendable {
        var next = 0
        var isStopped = false
    }

    private let state = LockedBox(State())
    private let count: Int

    init(count: Int) { self.count = count }

    /// No more files are handed out (a graceful stop).
    func stop() { state.withLock { $0.isStopped = true } }

    func take() -> Int? {
        state.withLock { state in
            guard state.next < count, !state.isStopped else { return nil }
            defer { state.next += 1 }
            return state.next
        }
    }
}
