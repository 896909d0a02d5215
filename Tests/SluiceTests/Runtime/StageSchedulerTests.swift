import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// The executor's scheduling rules, driven by hand: which stage runs what, on which crew,
/// within `workers` and `queue`.
@Suite struct StageSchedulerTests {
    typealias Shape = StageScheduler.StageShape

    static func batch(_ file: Int, _ index: Int) -> Batch { Batch(file: file, index: index) }

    /// The stage and key of a `.run` work item.
    static func run(_ work: StageScheduler.Work?) -> (stage: Int, file: Int, index: Int)? {
        if case .run(let stage, let batch)? = work { return (stage, batch.file, batch.index) }
        return nil
    }

    @Test func aStageNeverRunsMoreThanItsWorkersAndPrefersLaterStages() {
        var s = StageScheduler(stages: [Shape(workers: 2, queue: 4), Shape(workers: 1, queue: 4)], fileCount: 1)
        for i in 0..<4 {
            let admitted = s.submit(Self.batch(0, i))
            #expect(admitted == .accepted)
        }
        let r2 = s.submit(Self.batch(0, 4))
        #expect(r2 == .full, "the first queue holds 4")
        let a = s.take(on: .shared), b = s.take(on: .shared)
        #expect(Self.run(a)?.stage == 0 && Self.run(b)?.stage == 0)
        let r3 = s.take(on: .shared)
        #expect(r3 == nil, "stage 0 is at its 2 workers and stage 1 is empty")
        #expect(s.runningCounts == [2, 0])
        // No fusion offered: the batch is queued for stage 1, which is then taken first.
        let r4 = s.complete(stage: 0, batch: Self.batch(0, 0), fuseOn: nil)
        #expect(r4 == nil)
        let r5 = s.take(on: .shared)
        #expect(Self.run(r5)?.stage == 1)
        #expect(s.runningCounts == [1, 1])
    }

    @Test func fusionCarriesABatchToTheNextStageOnTheSameThread() {
        var s = StageScheduler(stages: [Shape(workers: 2, queue: 2), Shape(workers: 1, queue: 2), Shape(workers: 2, queue: 2)],
                               fileCount: 1)
        _ = s.submit(Self.batch(0, 0))
        _ = s.submit(Self.batch(0, 1))
        let first = s.take(on: .shared), second = s.take(on: .shared)
        #expect(Self.run(first)?.stage == 0 && Self.run(second)?.stage == 0)
        let fused = s.complete(stage: 0, batch: Self.batch(0, 0), fuseOn: .shared)
        #expect(Self.run(fused)?.stage == 1)
        // Stage 1 has one worker, busy now: the second batch waits in its queue.
        let r6 = s.complete(stage: 0, batch: Self.batch(0, 1), fuseOn: .shared)
        #expect(r6 == nil)
        #expect(s.fills == [0, 1, 0])
        let r7 = s.complete(stage: 1, batch: Self.batch(0, 0), fuseOn: .shared)
        #expect(Self.run(r7)?.stage == 2)
        #expect(s.highWaterMarks == [2, 1, 0])
    }

    @Test func aBatchIsTakenOnlyWhenTheNextQueueHasASlotForIt() {
        var s = StageScheduler(stages: [Shape(workers: 4, queue: 4), Shape(workers: 1, queue: 1)], fileCount: 1)
        for i in 0..<3 { _ = s.submit(Self.batch(0, i)) }
        let r8 = s.take(on: .shared)
        #expect(Self.run(r8)?.stage == 0, "reserves stage 1's one slot")
        let r9 = s.take(on: .shared)
        #expect(r9 == nil, "stage 1's queue is promised: stage 0 must wait")
        let r10 = s.complete(stage: 0, batch: Self.batch(0, 0), fuseOn: nil)
        #expect(r10 == nil)
        let r11 = s.take(on: .shared)
        #expect(Self.run(r11)?.stage == 1, "stage 1 frees the slot by taking the batch")
        let r12 = s.take(on: .shared)
        #expect(Self.run(r12)?.stage == 0)
    }

    @Test func anInputOrderStageRunsOneBatchAtATimeInFileThenBatchOrder() {
        var s = StageScheduler(stages: [Shape(workers: 3, queue: 8), Shape(workers: 3, queue: 8, needsInputOrder: true)],
                               fileCount: 2)
        for (f, i) in [(0, 0), (0, 1), (1, 0)] { _ = s.submit(Self.batch(f, i)) }
        let r13 = s.fileEnded(0, batches: 2)
        #expect(r13)
        let r14 = s.fileEnded(1, batches: 1)
        #expect(r14)
        var taken: [(Int, Int, Int)] = []
        while let work = Self.run(s.take(on: .shared)) { taken.append(work) }
        #expect(taken.map(\.0) == [0, 0, 0])
        // Stage 0 finishes out of order; stage 1 still sees (0,0), (0,1), (1,0), one at a time.
        for (f, i) in [(1, 0), (0, 1)] {
            let queued = s.complete(stage: 0, batch: Self.batch(f, i), fuseOn: .shared)
            #expect(queued == nil)
        }
        let r16 = s.take(on: .shared)
        #expect(r16 == nil, "(0,0) has not arrived")
        let fused = s.complete(stage: 0, batch: Self.batch(0, 0), fuseOn: .shared)
        #expect(fused == nil, "an input-order stage is never fused into: its window decides")
        var order: [(Int, Int)] = []
        while let work = Self.run(s.take(on: .shared)) {
            order.append((work.file, work.index))
            let r17 = s.take(on: .shared)
            #expect(r17 == nil, "one at a time")
            _ = s.complete(stage: 1, batch: nil, fuseOn: .shared)
        }
        #expect(order.map(\.0) == [0, 0, 1] && order.map(\.1) == [0, 1, 0])
    }

    @Test func anInputOrderStageWaitingForItsNextBatchTakesMoreThanItsQueue() {
        var s = StageScheduler(stages: [Shape(workers: 2, queue: 4), Shape(workers: 1, queue: 1, needsInputOrder: true)],
                               fileCount: 1)
        _ = s.submit(Self.batch(0, 1))
        _ = s.submit(Self.batch(0, 0))
        let later = s.take(on: .shared)
        #expect(Self.run(later)?.index == 1)
        let queued = s.complete(stage: 0, batch: Self.batch(0, 1), fuseOn: .shared)
        #expect(queued == nil)
        // The queue of 1 holds (0,1), which cannot run before (0,0): (0,0) is still let in.
        let head = s.take(on: .shared)
        #expect(Self.run(head)?.stage == 0 && Self.run(head)?.index == 0)
        _ = s.complete(stage: 0, batch: Self.batch(0, 0), fuseOn: .shared)
        var order: [Int] = []
        while let work = Self.run(s.take(on: .shared)) {
            order.append(work.index)
            _ = s.complete(stage: 1, batch: nil, fuseOn: .shared)
        }
        #expect(order == [0, 1])
    }

    @Test func blockingStagesRunOnlyOnTheirOwnThreads() {
        var s = StageScheduler(stages: [Shape(workers: 2, queue: 2), Shape(workers: 2, queue: 2, isBlocking: true)], fileCount: 1)
        _ = s.submit(Self.batch(0, 0))
        let r18 = s.take(on: .dedicated(stage: 1))
        #expect(r18 == nil, "a command thread does not run CPU stages")
        let r19 = s.take(on: .shared)
        #expect(Self.run(r19)?.stage == 0)
        let r20 = s.complete(stage: 0, batch: Self.batch(0, 0), fuseOn: .shared)
        #expect(r20 == nil, "not fused onto a CPU thread")
        let r21 = s.take(on: .shared)
        #expect(r21 == nil)
        let r22 = s.take(on: .dedicated(stage: 1))
        #expect(Self.run(r22)?.stage == 1)
    }

    @Test func stagesFinishInOrderOnceTheInputIsClosedAndTheCrewsThenExit() {
        var s = StageScheduler(stages: [Shape(workers: 1, queue: 1), Shape(workers: 1, queue: 1)], fileCount: 1)
        _ = s.submit(Self.batch(0, 0))
        s.closeInput()
        let work = s.take(on: .shared)
        #expect(Self.run(work)?.stage == 0)
        let r23 = s.take(on: .shared)
        #expect(r23 == nil)
        let fused = s.complete(stage: 0, batch: Self.batch(0, 0), fuseOn: .shared)
        guard case .finish(0, false)? = s.take(on: .shared) else { Issue.record("stage 0 should finish"); return }
        #expect(Self.run(fused)?.stage == 1)
        let r24 = s.take(on: .shared)
        #expect(r24 == nil, "stage 1 still runs a batch")
        _ = s.complete(stage: 1, batch: nil, fuseOn: .shared)
        guard case .finish(1, true)? = s.take(on: .shared) else { Issue.record("stage 1 should finish and close the sink"); return }
        guard case .exit? = s.take(on: .shared) else { Issue.record("the crew should exit"); return }
    }

    @Test func cancelDropsQueuedBatchesAndLetsEveryCrewExit() {
        var s = StageScheduler(stages: [Shape(workers: 1, queue: 4), Shape(workers: 1, queue: 4, isBlocking: true)], fileCount: 1)
        for i in 0..<3 { _ = s.submit(Self.batch(0, i)) }
        let running = s.take(on: .shared)
        #expect(Self.run(running)?.stage == 0)
        s.cancel()
        let r25 = s.submit(Self.batch(0, 3))
        #expect(r25 == .cancelled)
        let r26 = s.fileEnded(0, batches: 4)
        #expect(!r26)
        #expect(s.fills == [0, 0])
        let r27 = s.take(on: .shared)
        #expect(r27 == nil, "stage 0 still runs its batch")
        let r28 = s.complete(stage: 0, batch: Self.batch(0, 0), fuseOn: .shared)
        #expect(r28 == nil, "goes nowhere")
        var finished: [Int] = []
        while case .finish(let k, _)? = s.take(on: .shared) { finished.append(k) }
        #expect(finished == [0, 1])
        guard case .exit? = s.take(on: .shared), case .exit? = s.take(on: .dedicated(stage: 1)) else {
            Issue.record("every crew should exit"); return
        }
    }

    @Test func sharedThreadsNeverOutnumberTheCoresNorTheWorkThereIs() {
        let bench = [Shape(workers: 2, queue: 8), Shape(workers: 2, queue: 8), Shape(workers: 2, queue: 8)]
        #expect(StageExecutor.sharedThreadCount(bench, cores: 2) == 2)
        #expect(StageExecutor.sharedThreadCount(bench, cores: 1) == 1)
        #expect(StageExecutor.sharedThreadCount([Shape(workers: 1, queue: 1)], cores: 8) == 1)
        #expect(StageExecutor.sharedThreadCount([Shape(workers: 64, queue: 1, needsInputOrder: true)], cores: 8) == 1)
        #expect(StageExecutor.sharedThreadCount([Shape(workers: 4, queue: 1, isBlocking: true)], cores: 8) == 0)
    }
}

extension StageScheduler.Work: Equatable {
    public static func == (a: Self, b: Self) -> Bool {
        switch (a, b) {
        case (.run(let s1, let b1), .run(let s2, let b2)): return s1 == s2 && b1.file == b2.file && b1.index == b2.index
        case (.finish(let s1, let c1), .finish(let s2, let c2)): return s1 == s2 && c1 == c2
        case (.exit, .exit): return true
        default: return false
        }
    }
}

@Suite struct ProcessorCountTests {
    @Test func cpuListsAreCounted() {
        #expect(ProcessorCount.count(list: "0") == 1)
        #expect(ProcessorCount.count(list: "\t0-1") == 2)
        #expect(ProcessorCount.count(list: "0-3,8,10-11") == 7)
        #expect(ProcessorCount.count(list: "x") == nil)
        #expect(ProcessorCount.available >= 1)
    }
}
