import Foundation

/// The control state of one run — start, drain, stop, hard stop, commit — as a pure
/// value that returns what to do instead of doing it.
///
/// It knows nothing of threads, queues or files: ``RunStorage`` holds it inside its lock,
/// feeds it events (a signal, a cancel, a supervisor tick, the end of the threads) and
/// performs the ``Action`` it returns after releasing the lock. The last two steps, what
/// to commit and how the run exits, are pure functions of the run's outcome. Everything
/// here can therefore be tested without a thread (see `RunStateMachineTests`), in the
/// manner of swift-async-algorithms' channel state machines.
///
/// ```
///  preparing ──start──▶ running ──stop request──▶ draining ──grace over / 2nd signal──▶ halted
///      │                   │                          │                                  │
///      └──────cancel───────┴──────────cancel──────────┴───────────────▶ halted           │
///                          └────── threads joined (any phase) ──▶ committing ──▶ finished ◀┘
/// ```
struct RunStateMachine: Sendable {
    enum Phase: Int, Comparable, Sendable {
        /// Scanning, locking, planning: no queue exists yet.
        case preparing
        /// Readers take files; stages and the sink run.
        case running
        /// A stop was asked for: no new file is taken, files in flight finish.
        case draining
        /// Everything in flight is being stopped now (cancel, hard stop).
        case halted
        /// The threads are joined; the outputs and the ledger are being committed.
        case committing
        case finished

        static func < (a: Phase, b: Phase) -> Bool { a.rawValue < b.rawValue }
    }

    /// What the storage must do after an event, outside the lock.
    enum Action: Equatable, Sendable {
        case none
        /// Take no new file (the file cursor stops); files in flight go on.
        case stopIntake
        /// Stop every queue, gate, stage and the sink now: the one fan-out of cancel and
        /// hard stop. `reason` is what the stages' ``RunControl`` reports.
        case halt(reason: String)
        /// As `halt`, because `shutdown_grace` ran out (the storage logs it).
        case haltAfterGrace(reason: String)
    }

    private(set) var phase = Phase.preparing
    /// Set by ``cancel(reason:)``: the run fails with this reason.
    private(set) var cancelReason: String?
    /// Set by ``requestStop(_:now:)``: the run ends early but commits what it finished.
    private(set) var stopReason: StopReason?
    private(set) var stopRequestedAt: Double?
    private(set) var isHardStopped = false

    /// True once a stop has been asked for (signal or `--max-runtime`).
    var isStopRequested: Bool { stopReason != nil }

    /// The queues exist: the run starts, applying any stop or cancel that came first.
    mutating func start() -> [Action] {
        guard phase == .preparing else { return [] }
        if let cancelReason {
            phase = .halted
            return [.halt(reason: cancelReason)]
        }
        if isHardStopped {
            phase = .halted
            return [.stopIntake, .halt(reason: "stopped")]
        }
        if stopReason != nil {
            phase = .draining
            return [.stopIntake]
        }
        phase = .running
        return []
    }

    /// The run is to fail now with `reason` (the first reason wins).
    mutating func cancel(reason: String) -> Action {
        if cancelReason == nil { cancelReason = reason }
        switch phase {
        case .preparing, .committing, .finished:
            return .none   // `start()` applies it, or the threads are gone already
        case .running, .draining, .halted:
            phase = .halted
            return .halt(reason: cancelReason ?? reason)
        }
    }

    /// A graceful stop: the first request stops the intake; a second signal stops what is
    /// in flight (a signal during a `--max-runtime` drain only changes how the run ends).
    mutating func requestStop(_ reason: StopReason, now: Double) -> Action {
        if stopReason == nil {
            stopReason = reason
            stopRequestedAt = now
            guard phase == .running else { return .none }
            phase = .draining
            return .stopIntake
        }
        guard case .signal = reason else { return .none }
        if stopReason == .maxRuntime {
            stopReason = reason
            return .none
        }
        return hardStop()
    }

    /// Stops the files in flight at once, keeping the ones already committed to the sink.
    mutating func hardStop() -> Action {
        isHardStopped = true
        switch phase {
        case .running, .draining:
            phase = .halted
            return .halt(reason: "stopped")
        case .preparing, .halted, .committing, .finished:
            return .none
        }
    }

    /// The supervisor's tick: `--max-runtime` and `shutdown_grace`.
    mutating func tick(now: Double, startedAt: Double, maxRuntime: Double?, grace: Double) -> Action {
        guard phase == .running || phase == .draining else { return .none }
        if let maxRuntime, stopReason == nil, now - startedAt >= maxRuntime {
            return requestStop(.maxRuntime, now: now)
        }
        if let stopAt = stopRequestedAt, !isHardStopped, now - stopAt >= grace {
            if case .halt(let reason) = hardStop() { return .haltAfterGrace(reason: reason) }
        }
        return .none
    }

    /// Every reader, stage and sink thread has been joined.
    mutating func threadsJoined() {
        if phase < .committing { phase = .committing }
    }

    mutating func finish() { phase = .finished }

    /// Whether the supervisor still has work (the threads are running).
    var isSupervised: Bool { phase < .committing }

    // MARK: - Commit and exit: pure functions of the outcome

    /// What the sink ended with, as the commit decision needs it.
    struct SinkOutcome: Equatable, Sendable {
        /// A write error, or a stage's stop request (`on_error: fail`, `dedupe` past `max_keys`).
        var fatal: String?
        /// Every file was committed to the temporary outputs.
        var isComplete: Bool
    }

    enum CommitDecision: Equatable, Sendable {
        /// Remove the temporary files; the run fails.
        case discard(RunFailure)
        /// Commit what the sink holds; `cutUnfinished` when a stop left the head file half
        /// written (it is cut off first: it was not finished).
        case commit(cutUnfinished: Bool)
        /// The run went past its error threshold (`errors.on_threshold: fail`): commit no
        /// output and mark no file done; keep the error report (under a name no good run
        /// uses) and fail with `failure`.
        case withhold(RunFailure, cutUnfinished: Bool)
    }

    /// `errors:` as the decisions need it.
    struct Thresholds: Equatable, Sendable {
        var maxErrors: Int?
        var maxErrorRate: Double?
        /// `errors.on_threshold: commit`: a run past the threshold commits anyway.
        var commitAnyway = false
    }

    /// After the threads are joined: commit, withhold (threshold) or discard everything.
    ///
    /// The threshold judges the run as a whole (every file it finished): the records an
    /// error rate counts are usually failed by the config (a wrong `validate` rule fails
    /// them in every file), so nothing of such a run is marked done, and the next run
    /// after the fix processes the same files. A stopped run is judged on what it finished.
    func commitDecision(_ sink: SinkOutcome, totals: Totals? = nil, thresholds: Thresholds = .init()) -> CommitDecision {
        if let fatal = sink.fatal ?? cancelReason { return .discard(.fatal(fatal)) }
        if stopReason == nil && !sink.isComplete {
            return .discard(.fatal("the run stopped before every file was committed"))
        }
        if !thresholds.commitAnyway, let totals, let failure = Self.thresholdFailure(totals, thresholds) {
            return .withhold(failure, cutUnfinished: stopReason != nil)
        }
        return .commit(cutUnfinished: stopReason != nil)
    }

    /// The numbers the exit code depends on once the commit is done.
    struct Totals: Equatable, Sendable {
        var filesLeft: Int
        var errorLines: Int
        var recordsIn: Int
        /// Failed plus discarded records (what `max_error_rate` counts).
        var recordsBad: Int
    }

    /// How a committed run exits: nil for success (exit 0).
    func exitFailure(_ totals: Totals, thresholds: Thresholds) -> RunFailure? {
        if case .signal(let number)? = stopReason {
            return .stopped(signal: number, filesLeft: totals.filesLeft)
        }
        return Self.thresholdFailure(totals, thresholds)
    }

    func exitFailure(_ totals: Totals, maxErrors: Int?, maxErrorRate: Double?) -> RunFailure? {
        exitFailure(totals, thresholds: .init(maxErrors: maxErrors, maxErrorRate: maxErrorRate))
    }

    /// Whether `totals` are past `errors.max_errors` / `errors.max_error_rate`.
    static func thresholdFailure(_ totals: Totals, _ thresholds: Thresholds) -> RunFailure? {
        if let maxErrors = thresholds.maxErrors, totals.errorLines > maxErrors {
            return .thresholdExceeded("\(totals.errorLines) error lines exceed errors.max_errors (\(maxErrors))")
        }
        if let maxErrorRate = thresholds.maxErrorRate, totals.recordsIn > 0 {
            let rate = Double(totals.recordsBad) / Double(totals.recordsIn)
            if rate > maxErrorRate {
                return .thresholdExceeded(String(format: "error rate %.4f exceeds errors.max_error_rate (%g)", rate, maxErrorRate))
            }
        }
        return nil
    }
}

/// Why a run was asked to stop early.
public enum StopReason: Sendable, Equatable {
    /// SIGINT or SIGTERM: exit 128 + the signal number.
    case signal(Int32)
    /// `--max-runtime` ran out: exit as if the run had finished.
    case maxRuntime
}
