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
/// - Methods are `@inlinable`, so that the sink's and the executor's queues are specialised
///   for their element types in their own modules (see ``LockedBox``).
public final class BoundedQueue<Element: Sendable>: Sendable {
    @usableFromInline
    struct State: Sendable {
        @usableFromInline var items: [Element?]
        @usableFromInline var head = 0
        @usableFromInline var count = 0
        @usableFromInline var isClosed = false
        @usableFromInline var isCancelled = false
        @usableFromInline var maxCount = 0

        @inlinable
        init(items: [Element?]) {
            self.items = items
        }
    }

    public let capacity: Int
    @usableFromInline let state: LockedBox<State>
    // Consumers wait on one condition, producers on the other: a push wakes one consumer,
    // a pop one producer; close and cancel wake everyone.
    @inlinable static var notEmpty: Int { 0 }
    @inlinable static var notFull: Int { 1 }

    @inlinable
    public init(capacity: Int) {
        precondition(capacity > 0, "queue capacity must be positive")
        self.capacity = capacity
        self.state = LockedBox(State(items: Array(repeating: nil, count: capacity)), conditions: 2)
    }

    /// Appends `item`, waiting while the queue is full.
    /// - Returns: false when the queue was cancelled (the item is dropped).
    @inlinable @discardableResult
    public func push(_ item: Element) -> Bool {
        let capacity = self.capacity
        let pushed = state.withLock(when: { $0.count < capacity || $0.isCancelled }, on: Self.notFull) { state -> Bool in
            if state.isCancelled { return false }
            precondition(!state.isClosed, "push after close")
            state.items[(state.head + state.count) % capacity] = item
            state.count += 1
            if state.count > state.maxCount { state.maxCount = state.count }
            return true
        }
        if pushed { state.notifyOne(Self.notEmpty) }
        return pushed
    }

    /// Appends `item` when there is room, without waiting.
    /// - Returns: true when pushed, false when the queue was cancelled, nil when it is
    ///   full (the caller may then ``push(_:)`` and wait).
    @inlinable
    public func tryPush(_ item: Element) -> Bool? {
        let capacity = self.capacity
        let pushed = state.withLock { state -> Bool? in
            if state.isCancelled { return false }
            guard state.count < capacity else { return nil }
            precondition(!state.isClosed, "push after close")
            state.items[(state.head + state.count) % capacity] = item
            state.count += 1
            if state.count > state.maxCount { state.maxCount = state.count }
            return true
        }
        if pushed == true { state.notifyOne(Self.notEmpty) }
        return pushed
    }

    /// Removes the oldest item, waiting while the queue is empty and open.
    /// - Returns: nil once the queue is closed and drained, or cancelled.
    @inlinable
    public func pop() -> Element? {
        let capacity = self.capacity
        let item = state.withLock(when: { $0.count > 0 || $0.isClosed || $0.isCancelled }, on: Self.notEmpty) { state -> Element? in
            if state.isCancelled || state.count == 0 { return nil }
            let item = state.items[state.head].take()
            state.head = (state.head + 1) % capacity
            state.count -= 1
            return item
        }
        if item != nil { state.notifyOne(Self.notFull) }
        return item
    }

    /// No more pushes will come; consumers drain the rest and then see nil.
    @inlinable
    public func close() {
        state.withLockNotifying { $0.isClosed = true }
    }

    /// Stops everything now: waiters wake, queued items are dropped.
    @inlinable
    public func cancel() {
        state.withLockNotifying { state in
            state.isCancelled = true
            for i in state.items.indices { state.items[i] = nil }
            state.count = 0
        }
    }

    /// The most items the queue has held at once.
    @inlinable
    public var highWaterMark: Int { state.withLock { $0.maxCount } }

    /// Items in the queue now (for progress display; stale as soon as it is read).
    @inlinable
    public var fill: Int { state.withLock { $0.count } }
}
