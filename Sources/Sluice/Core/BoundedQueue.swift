/// A blocking FIFO with a fixed capacity, shared by producer and consumer threads.
///
/// ```swift
/// let queue = BoundedQueue<Batch>(capacity: 8)
/// // producer thread                      // consumer thread
/// guard queue.push(batch) else { return } while let batch = queue.pop() { ... }
/// queue.close()  // after the last push
/// ```
///
/// - Backpressure: `push` blocks while the queue holds `capacity` items, so a slow
///   consumer stalls its producers, and theirs, back to the file readers.
/// - Shutdown: `close()` lets consumers drain what is queued, then `pop` returns nil.
/// - Cancellation: `cancel()` wakes every waiter at once; `push` then returns false and
///   `pop` returns nil, and queued items are dropped.
/// - `highWaterMark` is the most items the queue ever held — never above `capacity`,
///   which is how tests prove that backpressure holds.
public final class BoundedQueue<Element: Sendable>: Sendable {
    private struct State: Sendable {
        var items: [Element?]
        var head = 0
        var count = 0
        var isClosed = false
        var isCancelled = false
        var maxCount = 0
    }

    public let capacity: Int
    private let state: LockedBox<State>

    public init(capacity: Int) {
        precondition(capacity > 0, "queue capacity must be positive")
        self.capacity = capacity
        self.state = LockedBox(State(items: Array(repeating: nil, count: capacity)))
    }

    /// Appends `item`, waiting while the queue is full.
    /// - Returns: false when the queue was cancelled (the item is dropped).
    @discardableResult
    public func push(_ item: Element) -> Bool {
        let capacity = self.capacity
        let pushed = state.withLock(when: { $0.count < capacity || $0.isCancelled }) { state -> Bool in
            if state.isCancelled { return false }
            precondition(!state.isClosed, "push after close")
            state.items[(state.head + state.count) % capacity] = item
            state.count += 1
            if state.count > state.maxCount { state.maxCount = state.count }
            return true
        }
        if pushed { state.notifyAll() }
        return pushed
    }

    /// Removes the oldest item, waiting while the queue is empty and open.
    /// - Returns: nil once the queue is closed and drained, or cancelled.
    public func pop() -> Element? {
        let capacity = self.capacity
        let item = state.withLock(when: { $0.count > 0 || $0.isClosed || $0.isCancelled }) { state -> Element? in
            if state.isCancelled || state.count == 0 { return nil }
            let item = state.items[state.head].take()
            state.head = (state.head + 1) % capacity
            state.count -= 1
            return item
        }
        if item != nil { state.notifyAll() }
        return item
    }

    /// No more pushes will come; consumers drain the rest and then see nil.
    public func close() {
        state.withLockNotifying { $0.isClosed = true }
    }

    /// Stops everything now: waiters wake, queued items are dropped.
    public func cancel() {
        state.withLockNotifying { state in
            state.isCancelled = true
            for i in state.items.indices { state.items[i] = nil }
            state.count = 0
        }
    }

    /// The most items the queue has held at once.
    public var highWaterMark: Int { state.withLock { $0.maxCount } }

    /// Items in the queue now (for progress display; stale as soon as it is read).
    public var fill: Int { state.withLock { $0.count } }
}
