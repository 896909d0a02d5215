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
public final class BoundedQueue<Element: Sendable>: @unchecked Sendable {
    public let capacity: Int
    private let lock = ConditionLock()
    private var items: [Element?]
    private var head = 0
    private var count = 0
    private var isClosed = false
    private var isCancelled = false
    private var maxCount = 0

    public init(capacity: Int) {
        precondition(capacity > 0, "queue capacity must be positive")
        self.capacity = capacity
        self.items = Array(repeating: nil, count: capacity)
    }

    /// Appends `item`, waiting while the queue is full.
    /// - Returns: false when the queue was cancelled (the item is dropped).
    @discardableResult
    public func push(_ item: Element) -> Bool {
        lock.withLock {
            while count == capacity && !isCancelled {
                lock.wait()
            }
            if isCancelled { return false }
            precondition(!isClosed, "push after close")
            items[(head + count) % capacity] = item
            count += 1
            if count > maxCount { maxCount = count }
            lock.broadcast()
            return true
        }
    }

    /// Removes the oldest item, waiting while the queue is empty and open.
    /// - Returns: nil once the queue is closed and drained, or cancelled.
    public func pop() -> Element? {
        lock.withLock {
            while count == 0 && !isClosed && !isCancelled {
                lock.wait()
            }
            if isCancelled || count == 0 { return nil }
            let item = items[head]
            items[head] = nil
            head = (head + 1) % capacity
            count -= 1
            lock.broadcast()
            return item
        }
    }

    /// No more pushes will come; consumers drain the rest and then see nil.
    public func close() {
        lock.withLock {
            isClosed = true
            lock.broadcast()
        }
    }

    /// Stops everything now: waiters wake, queued items are dropped.
    public func cancel() {
        lock.withLock {
            isCancelled = true
            for i in items.indices { items[i] = nil }
            count = 0
            lock.broadcast()
        }
    }

    /// The most items the queue has held at once.
    public var highWaterMark: Int { lock.withLock { maxCount } }

    /// Items in the queue now (for progress display; stale as soon as it is read).
    public var fill: Int { lock.withLock { count } }
}
