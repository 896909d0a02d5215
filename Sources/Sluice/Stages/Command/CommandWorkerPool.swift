#if canImport(Glibc)
import Glibc
import SluiceCore
#endif

/// The worker processes of one `command` stage, per run: idle children waiting for a
/// batch, and the run's restart count.
///
/// A stage worker thread checks a child out for a whole batch and checks it back in
/// after, so a run never has more children than the stage has `workers` (children are
/// started lazily, on a thread's first batch). State is kept per ``RunControl``, so two
/// runs of one loaded config never share children or restart counts.
///
/// Shutdown (``finish(control:grace:)``, once the stage's threads are done): every idle
/// child gets EOF on stdin, then, after `grace`, SIGTERM to its process group and SIGKILL
/// a second later; every child is reaped before it returns.
final class CommandWorkerPool: @unchecked Sendable {
    private final class RunState {
        var idle: [ChildProcess] = []
        var restarts = 0
    }

    private let lock = ConditionLock()
    private var runs: [ObjectIdentifier: RunState] = [:]
    private var spawnedPIDs: [pid_t] = []

    private func state(_ control: RunControl) -> RunState {
        let key = ObjectIdentifier(control)
        if let state = runs[key] { return state }
        let state = RunState()
        runs[key] = state
        return state
    }

    /// An idle child of this run, if there is one.
    func checkout(_ control: RunControl) -> ChildProcess? {
        lock.withLock { state(control).idle.popLast() }
    }

    /// Hands a healthy child back for the next batch.
    func checkin(_ child: ChildProcess, _ control: RunControl) {
        lock.withLock { state(control).idle.append(child) }
    }

    /// Notes a started child (tests check that every one was reaped).
    func noteSpawned(_ pid: pid_t) {
        lock.withLock { spawnedPIDs.append(pid) }
    }

    /// Every child ever started by this stage, in any run.
    var spawned: [pid_t] { lock.withLock { spawnedPIDs } }

    /// Counts one restart for this run; returns the run's total.
    func addRestart(_ control: RunControl) -> Int {
        lock.withLock {
            let state = state(control)
            state.restarts += 1
            return state.restarts
        }
    }

    /// Restarts so far in this run.
    func restarts(_ control: RunControl) -> Int {
        lock.withLock { runs[ObjectIdentifier(control)]?.restarts ?? 0 }
    }

    /// Stops every idle child of the run (see the type's discussion) and forgets the run.
    /// Call it once the stage's threads are done with the run: every child is idle then.
    func finish(control: RunControl, grace: Double) {
        let children: [ChildProcess] = lock.withLock {
            runs.removeValue(forKey: ObjectIdentifier(control))?.idle ?? []
        }
        guard !children.isEmpty else { return }
        children.forEach { $0.closeInput() }
        let deadline = monotonicSeconds() + grace
        for child in children { child.waitForExit(until: deadline) }
        for child in children { child.terminate(grace: 1) }
    }
}
