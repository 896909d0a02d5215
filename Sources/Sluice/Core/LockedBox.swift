#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// State that lives inside a lock: the one locking primitive of Sluice's runtime.
///
/// The value is reachable only through ``withLock(_:)``, so "forgot to take the lock" cannot
/// be written (the idea of swift-nio's `NIOLockedValueBox`). Unlike `Synchronization.Mutex`
/// (macOS 15+, no condition variable) the box can also *wait* for its state to change,
/// which is what bounded queues, gates and schedulers need:
///
/// ```swift
/// let box = LockedBox([Int]())
/// // producer                               // consumer
/// box.withLock { $0.append(1) }             let first = box.withLock(when: { !$0.isEmpty }) { $0.removeFirst() }
/// box.notifyAll()
/// ```
///
/// - Waiting: ``withLock(when:_:)`` releases the lock while it sleeps and re-checks the
///   condition under the lock on every wake-up, so a spurious wake-up is harmless.
/// - Waking: a change that can satisfy a waiter's condition must be followed by
///   ``notifyAll()`` (or use ``withLockNotifying(_:)``); the call may come after the lock
///   is released, because a waiter checks its condition under the lock before sleeping.
///
/// Everything is `@inlinable`: the executor, the queues and the gates hold their own state
/// types in it from other modules, and an unspecialised generic looked up metadata on
/// every lock.
@usableFromInline
package final class LockedBox<State> {
    @usableFromInline let lock: ConditionLock
    @usableFromInline var state: State

    /// - Parameter conditions: kinds of waiter (see ``notifyOne(_:)``); 1 unless some
    ///   change should wake one waiter of one kind rather than all.
    @inlinable
    package init(_ state: State, conditions: Int = 1) {
        self.state = state
        self.lock = ConditionLock(conditions: conditions)
    }

    /// Runs `body` on the state with the lock held.
    @inlinable @inline(__always)
    package func withLock<T>(_ body: (inout State) throws -> T) rethrows -> T {
        try lock.withLock { try body(&state) }
    }

    /// Runs `body` with the lock held, then wakes every waiter.
    @inlinable @inline(__always)
    package func withLockNotifying<T>(_ body: (inout State) throws -> T) rethrows -> T {
        try lock.withLock {
            defer { lock.broadcast() }
            return try body(&state)
        }
    }

    /// Waits until `condition` holds, then runs `body` with the lock still held.
    @inlinable
    package func withLock<T>(when condition: (State) -> Bool, on c: Int = 0, _ body: (inout State) throws -> T) rethrows -> T {
        try lock.withLock {
            while !condition(state) { lock.wait(on: c) }
            return try body(&state)
        }
    }

    /// Runs `body` with the lock held until it returns a value, sleeping until the next
    /// ``notifyAll()`` between tries: for state machines whose answer is "wait" (nil).
    /// `body` must leave the state as it was when it returns nil.
    ///
    /// A name of its own, not a `withLock` overload: a trailing closure returning an
    /// optional would otherwise silently pick this one and wait forever on nil.
    @inlinable
    package func retrying<T>(on c: Int = 0, _ body: (inout State) throws -> T?) rethrows -> T {
        try lock.withLock {
            while true {
                if let value = try body(&state) { return value }
                lock.wait(on: c)
            }
        }
    }

    /// As ``retrying(on:_:)``, calling `sleeping(&state, true)` before each wait and
    /// `sleeping(&state, false)` after it, with the lock held: a state machine can count
    /// its sleepers (who would take work if woken) that way.
    @inlinable
    package func retrying<T>(on c: Int = 0, _ body: (inout State) throws -> T?, sleeping: (inout State, Bool) -> Void) rethrows -> T {
        try lock.withLock {
            while true {
                if let value = try body(&state) { return value }
                sleeping(&state, true)
                lock.wait(on: c)
                sleeping(&state, false)
            }
        }
    }

    /// As ``retrying(_:)``, for answers where `isDone` tells "wait" apart.
    @inlinable
    package func retrying<T>(on c: Int = 0, _ body: (inout State) throws -> T, until isDone: (T) -> Bool) rethrows -> T {
        try retrying(on: c, { state -> T? in
            let value = try body(&state)
            return isDone(value) ? value : nil
        })
    }

    /// As ``withLock(when:_:)``, but gives up after `seconds`; `body` then gets `false`
    /// (the condition still does not hold).
    package func withLock<T>(when condition: (State) -> Bool, timeout seconds: Double,
                     _ body: (inout State, Bool) throws -> T) rethrows -> T {
        try lock.withLock {
            let deadline = monotonicSeconds() + seconds
            while !condition(state) {
                let left = deadline - monotonicSeconds()
                if left <= 0 { return try body(&state, false) }
                _ = lock.wait(seconds: left)
            }
            return try body(&state, true)
        }
    }

    /// Wakes every thread waiting in ``withLock(when:_:)`` or ``retrying(_:)``.
    ///
    /// Needs no lock: a waiter tests its condition under the lock and sleeps atomically
    /// with releasing it, so a change made under the lock before this call is seen.
    @inlinable @inline(__always)
    package func notifyAll() {
        lock.broadcast()
    }

    /// Wakes every thread waiting on condition `c`, and no other.
    @inlinable @inline(__always)
    package func notifyAll(_ c: Int) {
        lock.broadcast(c)
    }

    /// Wakes one thread waiting on condition `c` (``retrying(on:_:)``, ``withLock(when:on:_:)``):
    /// for a change that lets one waiter go on, when all of `c`'s waiters wait for the same
    /// thing. `pthread_cond_broadcast` per tiny batch woke every thread to find one batch.
    @inlinable @inline(__always)
    package func notifyOne(_ c: Int) {
        lock.signal(c)
    }
}

// Safe: the state is only ever read or written with the mutex held (every access goes
// through `withLock`), so sharing the box shares the state as a `Mutex` would.
extension LockedBox: @unchecked Sendable where State: Sendable {}
