/// The handle a stage holds on the run it serves: whether the run is stopping, and a
/// way to stop it.
///
/// A stage cannot reach ``PipelineRun`` itself; the run gives each ``StageContext`` its
/// control. ``cancel(reason:)`` is for faults that make the whole run pointless (a
/// `command` stage whose workers keep crashing); a bad record is never one of them.
///
/// Thread-safe: any worker thread may call any member, more than once.
public final class RunControl: Sendable {
    private struct State: Sendable {
        var reason: String?
        var handler: (@Sendable (String) -> Void)?
    }

    private let state = LockedBox(State())

    /// A control that only records the cancellation (for stages run outside a
    /// ``PipelineRun``, as in unit tests).
    public init() {}

    /// Called once, with the first reason, when ``cancel(reason:)`` is first called.
    package func onCancel(_ handler: @escaping @Sendable (String) -> Void) {
        state.withLock { $0.handler = handler }
    }

    /// Stops the run; its summary names `reason` as the failure (the first reason wins).
    public func cancel(reason: String) {
        let handler: (@Sendable (String) -> Void)? = state.withLock { state in
            guard state.reason == nil else { return nil }
            state.reason = reason
            return state.handler
        }
        handler?(reason)
    }

    /// Marks the run as stopping without calling the handler (the run itself is
    /// cancelling).
    package func noteCancelled(_ reason: String) {
        state.withLock { if $0.reason == nil { $0.reason = reason } }
    }

    /// True once the run is stopping: work in progress may be abandoned.
    public var isCancelled: Bool { state.withLock { $0.reason != nil } }

    /// Why the run is stopping, once it is.
    public var cancelReason: String? { state.withLock { $0.reason } }
}
