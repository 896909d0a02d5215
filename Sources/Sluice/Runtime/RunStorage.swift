import Logging
import SluiceCore
import SluiceIO

/// The lock around a run's ``RunStateMachine`` and the things its actions reach: the
/// executor, the sink queue, the admission gate and the file cursor.
///
/// Every event (cancel, stop request, tick) changes the state machine under the lock;
/// the action it returns is performed after the lock is released, so a queue's or a
/// gate's own lock is never taken inside this one. ``PipelineRun`` is the facade over it.
final class RunStorage: Sendable {
    /// What the run's actions act on, once the run has started.
    struct Resources: Sendable {
        var executor: StageExecutor
        var sinkQueue: BoundedQueue<SinkMessage>
        var gate: AdmissionGate
        var cursor: FileCursor
    }

    private struct State: Sendable {
        var machine = RunStateMachine()
        var resources: Resources?
    }

    private let state = LockedBox(State())
    /// Handed to every stage: lets a stage stop the run (see ``RunControl``).
    let control = RunControl()
    private let logger: Logger

    init(logger: Logger) {
        self.logger = logger
    }

    /// The run's threads and queues exist: apply what came before them.
    func start(_ resources: Resources) {
        let actions = state.withLock { state -> [RunStateMachine.Action] in
            state.resources = resources
            return state.machine.start()
        }
        for action in actions { perform(action, on: resources) }
    }

    func cancel(reason: String) {
        let (action, resources) = state.withLock { ($0.machine.cancel(reason: reason), $0.resources) }
        control.noteCancelled(reason)
        perform(action, on: resources)
    }

    func requestStop(_ reason: StopReason) {
        let (action, resources) = state.withLock { ($0.machine.requestStop(reason, now: monotonicSeconds()), $0.resources) }
        perform(action, on: resources)
    }

    /// The supervisor's tick (`--max-runtime`, `shutdown_grace`).
    func tick(startedAt: Double, maxRuntime: Double?, grace: Double) {
        let (action, resources) = state.withLock {
            ($0.machine.tick(now: monotonicSeconds(), startedAt: startedAt, maxRuntime: maxRuntime, grace: grace), $0.resources)
        }
        if case .haltAfterGrace = action {
            logger.warning("shutdown_grace (\(grace)s) is over: stopping the files still in flight")
        }
        perform(action, on: resources)
    }

    func threadsJoined() { state.withLock { $0.machine.threadsJoined() } }
    func finish() { state.withLock { $0.machine.finish() } }

    var isStopRequested: Bool { state.withLock { $0.machine.isStopRequested } }
    var isSupervised: Bool { state.withLock { $0.machine.isSupervised } }
    var isCancelled: Bool { state.withLock { $0.machine.cancelReason != nil } }
    /// A copy of the state machine, for the commit and exit decisions.
    var machine: RunStateMachine { state.withLock { $0.machine } }

    /// The one fan-out of cancel and hard stop.
    private func perform(_ action: RunStateMachine.Action, on resources: Resources?) {
        switch action {
        case .none:
            return
        case .stopIntake:
            resources?.cursor.stop()
        case .halt(let reason), .haltAfterGrace(let reason):
            // A stage busy with a batch (a `command` waiting on its child) learns of the
            // stop from the control; cancelling the queues only wakes threads that wait.
            control.noteCancelled(reason)
            guard let resources else { return }
            resources.cursor.stop()
            resources.executor.cancel()
            resources.sinkQueue.cancel()
            resources.gate.cancel()
        }
    }
}
