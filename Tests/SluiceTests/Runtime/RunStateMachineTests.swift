import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// The run's control state, driven by hand: no thread, no file, no clock.
@Suite struct RunStateMachineTests {
    @Test func aPlainRunStartsAndCommitsEverything() {
        var machine = RunStateMachine()
        let r1 = machine.start()
        #expect(r1 == [])
        #expect(machine.phase == .running)
        let r2 = machine.tick(now: 5, startedAt: 0, maxRuntime: nil, grace: 10)
        #expect(r2 == .none)
        machine.threadsJoined()
        #expect(!machine.isSupervised)
        #expect(machine.commitDecision(.init(fatal: nil, isComplete: true)) == .commit(cutUnfinished: false))
        #expect(machine.exitFailure(.init(filesLeft: 0, errorLines: 3, recordsIn: 100, recordsBad: 3),
                                    maxErrors: nil, maxErrorRate: 0.05) == nil)
    }

    @Test func cancelBeforeStartHaltsAtStartAndDiscards() {
        var machine = RunStateMachine()
        let r3 = machine.cancel(reason: "boom")
        #expect(r3 == .none)
        let r4 = machine.start()
        #expect(r4 == [.halt(reason: "boom")])
        let r5 = machine.cancel(reason: "second")
        #expect(r5 == .halt(reason: "boom"), "the first reason wins")
        machine.threadsJoined()
        #expect(machine.commitDecision(.init(fatal: nil, isComplete: false)) == .discard(.fatal("boom")))
    }

    @Test func firstSignalDrainsSecondSignalHaltsAndTheRunStillCommitsWhatItFinished() {
        var machine = RunStateMachine()
        _ = machine.start()
        let r6 = machine.requestStop(.signal(2), now: 1)
        #expect(r6 == .stopIntake)
        #expect(machine.phase == .draining)
        let r7 = machine.requestStop(.signal(2), now: 2)
        #expect(r7 == .halt(reason: "stopped"))
        #expect(machine.phase == .halted)
        #expect(machine.isHardStopped)
        machine.threadsJoined()
        #expect(machine.commitDecision(.init(fatal: nil, isComplete: false)) == .commit(cutUnfinished: true))
        let failure = machine.exitFailure(.init(filesLeft: 3, errorLines: 0, recordsIn: 10, recordsBad: 0),
                                          maxErrors: nil, maxErrorRate: nil)
        #expect(failure?.exitCode == ExitStatus.interrupted)
        #expect(failure?.message == "stopped by SIGINT: 3 files left for the next run")
    }

    @Test func graceRunsOutThenTheFilesInFlightStop() {
        var machine = RunStateMachine()
        _ = machine.start()
        let r8 = machine.requestStop(.signal(15), now: 10)
        #expect(r8 == .stopIntake)
        let r9 = machine.tick(now: 14, startedAt: 0, maxRuntime: nil, grace: 5)
        #expect(r9 == .none)
        let r10 = machine.tick(now: 15, startedAt: 0, maxRuntime: nil, grace: 5)
        #expect(r10 == .haltAfterGrace(reason: "stopped"))
        let r11 = machine.tick(now: 16, startedAt: 0, maxRuntime: nil, grace: 5)
        #expect(r11 == .none, "halts once")
        machine.threadsJoined()
        #expect(machine.exitFailure(.init(filesLeft: 1, errorLines: 0, recordsIn: 0, recordsBad: 0),
                                    maxErrors: nil, maxErrorRate: nil)?.exitCode == ExitStatus.terminated)
    }

    @Test func maxRuntimeDrainsAndExitsZeroUnlessASignalComes() {
        var machine = RunStateMachine()
        _ = machine.start()
        let r12 = machine.tick(now: 59, startedAt: 0, maxRuntime: 60, grace: 30)
        #expect(r12 == .none)
        let r13 = machine.tick(now: 60, startedAt: 0, maxRuntime: 60, grace: 30)
        #expect(r13 == .stopIntake)
        #expect(machine.stopReason == .maxRuntime)
        var signalled = machine
        machine.threadsJoined()
        #expect(machine.exitFailure(.init(filesLeft: 2, errorLines: 0, recordsIn: 1, recordsBad: 0),
                                    maxErrors: nil, maxErrorRate: nil) == nil)
        // A signal during the drain keeps draining but the run ends as stopped by it.
        let r14 = signalled.requestStop(.signal(15), now: 61)
        #expect(r14 == .none)
        #expect(signalled.phase == .draining)
        #expect(signalled.exitFailure(.init(filesLeft: 2, errorLines: 0, recordsIn: 1, recordsBad: 0),
                                      maxErrors: nil, maxErrorRate: nil)?.exitCode == ExitStatus.terminated)
    }

    @Test func aStopBeforeStartStopsTheIntakeAtStart() {
        var machine = RunStateMachine()
        let r15 = machine.requestStop(.signal(2), now: 0)
        #expect(r15 == .none)
        let r16 = machine.start()
        #expect(r16 == [.stopIntake])
    }

    @Test func aSinkFailureOrAnIncompleteRunIsDiscarded() {
        var machine = RunStateMachine()
        _ = machine.start()
        machine.threadsJoined()
        #expect(machine.commitDecision(.init(fatal: "disk full", isComplete: false)) == .discard(.fatal("disk full")))
        #expect(machine.commitDecision(.init(fatal: nil, isComplete: false))
                == .discard(.fatal("the run stopped before every file was committed")))
    }

    @Test func thresholdsGiveExitOneWithTheirMessages() {
        let machine = RunStateMachine()
        let totals = RunStateMachine.Totals(filesLeft: 0, errorLines: 11, recordsIn: 100, recordsBad: 11)
        #expect(machine.exitFailure(totals, maxErrors: 10, maxErrorRate: nil)
                == .thresholdExceeded("11 error lines exceed errors.max_errors (10)"))
        #expect(machine.exitFailure(totals, maxErrors: nil, maxErrorRate: 0.1)
                == .thresholdExceeded("error rate 0.1100 exceeds errors.max_error_rate (0.1)"))
        #expect(machine.exitFailure(totals, maxErrors: 11, maxErrorRate: 0.11) == nil)
        #expect(RunFailure.thresholdExceeded("x").exitCode == ExitStatus.failure)
    }

    @Test func aRunPastItsThresholdIsWithheldUnlessOnThresholdCommit() {
        var machine = RunStateMachine()
        _ = machine.start()
        machine.threadsJoined()
        let totals = RunStateMachine.Totals(filesLeft: 0, errorLines: 11, recordsIn: 100, recordsBad: 11)
        let complete = RunStateMachine.SinkOutcome(fatal: nil, isComplete: true)
        #expect(machine.commitDecision(complete, totals: totals, thresholds: .init(maxErrors: 10))
                == .withhold(.thresholdExceeded("11 error lines exceed errors.max_errors (10)"), cutUnfinished: false))
        #expect(machine.commitDecision(complete, totals: totals, thresholds: .init(maxErrorRate: 0.1, commitAnyway: true))
                == .commit(cutUnfinished: false))
        #expect(machine.commitDecision(complete, totals: totals, thresholds: .init(maxErrors: 11, maxErrorRate: 0.11))
                == .commit(cutUnfinished: false))
        // A fatal error still discards everything, threshold or not.
        #expect(machine.commitDecision(.init(fatal: "disk full", isComplete: false), totals: totals, thresholds: .init(maxErrors: 0))
                == .discard(.fatal("disk full")))
        // A drained run is judged on what it finished, and its half-written file is cut.
        var stopped = RunStateMachine()
        _ = stopped.start()
        _ = stopped.requestStop(.signal(15), now: 0)
        stopped.threadsJoined()
        #expect(stopped.commitDecision(.init(fatal: nil, isComplete: false), totals: totals, thresholds: .init(maxErrorRate: 0.1))
                == .withhold(.thresholdExceeded("error rate 0.1100 exceeds errors.max_error_rate (0.1)"), cutUnfinished: true))
    }

    @Test func exitCodesAreTheContractsNumbers() {
        #expect([ExitStatus.success, ExitStatus.failure, ExitStatus.usage, ExitStatus.lockHeld,
                 ExitStatus.interrupted, ExitStatus.terminated] == [0, 1, 2, 4, 130, 143])
        #expect(RunFailure.lockHeld("held").exitCode == 4)
    }
}
