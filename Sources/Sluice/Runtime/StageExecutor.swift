import SluiceCore
import SluiceIO

/// Runs the stages of a run on a fixed set of threads: as many shared threads as the
/// process may use cores for every CPU-only stage, plus `workers` own threads for each
/// stage that blocks (``Stage/blocksThread``), driven by a ``StageScheduler``.
///
/// A thread per worker per stage (the design before this one) put 9 threads on 2 cores
/// for `bench/orders-bench.yaml`, and the same work cost ~20 % more CPU than with one
/// worker each: switches, futex wake-ups and batches that went cold between stages. Here
/// the CPU-bound threads never outnumber the cores, and a thread that finishes a batch
/// at one stage usually goes on with it at the next (see the scheduler's fusion).
///
/// - Backpressure: ``submit(_:)`` blocks a reader while the first stage's queue is full;
///   a stage takes a batch only when the next stage's queue has a slot for it; the last
///   stage's push into the sink queue may block (the sink never waits on its producers).
/// - Cancellation: ``cancel()`` drops every queued batch and wakes every waiter; threads
///   finish the batch in their hands and end; readers' ``submit(_:)`` returns false.
/// - Shutdown: each stage's `finish` is called once, after its last batch; the sink
///   queue is closed after the last stage's last batch; ``join()`` waits for every thread.
final class StageExecutor: Sendable {
    private let scheduler: LockedBox<StageScheduler>
    private let steps: [StageStep]
    private let counters: [StageCounters]
    private let encoder: OutputEncoder
    private let sink: BoundedQueue<SinkMessage>
    private let threads = LockedBox<[WorkerThread]>([])
    /// Shared threads started (tests and `sluice explain`).
    let sharedThreads: Int
    /// The crew that runs the first stage.
    private let firstCrew: StageScheduler.Crew
    /// Readers waiting for room in the first stage's queue.
    private static let readersCondition = 0

    /// The condition the threads of `crew` wait on.
    private static func condition(of crew: StageScheduler.Crew) -> Int {
        switch crew {
        case .shared: return 1
        case .dedicated(let k): return 2 + k
        }
    }

    /// - Parameters:
    ///   - cores: how many shared threads to run at most (default: the cores this
    ///     process may run on).
    init(steps: [StageStep], counters: [StageCounters], fileCount: Int, encoder: OutputEncoder,
         sink: BoundedQueue<SinkMessage>, cores: Int = ProcessorCount.available) {
        self.steps = steps
        self.counters = counters
        self.encoder = encoder
        self.sink = sink
        let shapes = steps.map { step in
            StageScheduler.StageShape(workers: step.spec.workers, queue: step.spec.queue,
                                      needsInputOrder: step.spec.stage.needsInputOrder,
                                      isBlocking: step.spec.stage.blocksThread)
        }
        // Waiters of one kind per condition (see `condition(of:)`), so that a reader's batch
        // wakes one thread that can run it, not every thread and every reader.
        scheduler = LockedBox(StageScheduler(stages: shapes, fileCount: fileCount), conditions: 2 + steps.count)
        firstCrew = shapes[0].isBlocking ? .dedicated(stage: 0) : .shared
        sharedThreads = Self.sharedThreadCount(shapes, cores: cores)
    }

    /// Shared threads for `stages` on `cores` cores: never more than the cores, nor more
    /// than the CPU stages could use at once.
    static func sharedThreadCount(_ stages: [StageScheduler.StageShape], cores: Int) -> Int {
        let usable = stages.filter { !$0.isBlocking }.reduce(0) { $0 + ($1.needsInputOrder ? 1 : max(1, $1.workers)) }
        return usable == 0 ? 0 : max(1, min(cores, usable))
    }

    /// Starts the threads (and the stages' clocks).
    func start() {
        scheduler.withLock { $0.advanceClock(to: monotonicSeconds()) }
        var started: [WorkerThread] = []
        for t in 0..<sharedThreads {
            started.append(WorkerThread(name: "sluice-cpu-\(t)") { [self] in serve(.shared) })
        }
        for (k, step) in steps.enumerated() where step.spec.stage.blocksThread {
            for w in 0..<max(1, step.spec.workers) {
                started.append(WorkerThread(name: "sluice-\(k)-\(w)") { [self] in serve(.dedicated(stage: k)) })
            }
        }
        threads.withLock { $0 = started }
    }

    /// Waits for every thread to end.
    func join() {
        for thread in threads.withLock({ $0 }) { thread.join() }
    }

    // MARK: Readers

    /// Hands a reader's batch to the first stage, waiting while its queue is full.
    /// - Returns: false when the run is cancelled (the batch is dropped).
    func submit(_ batch: Batch) -> Bool {
        let admission = scheduler.retrying(on: Self.readersCondition, { s -> StageScheduler.Admission in
            s.advanceClock(to: monotonicSeconds())
            return s.submit(batch)
        }, until: { $0 != .full })
        // One batch more lets one thread of the first stage's crew go on: wake one, not
        // every thread and reader (many small files made that a wake-up storm).
        if admission == .accepted { scheduler.notifyOne(Self.condition(of: firstCrew)) }
        return admission == .accepted
    }

    /// Hands a reader's last batch of a file to the first stage with the file's ending,
    /// which then reaches the sink with the batch (one hand-off per small file, not two).
    /// - Returns: false when the run is cancelled (both are dropped).
    func submit(_ batch: Batch, ending: FileEnd) -> Bool {
        let (admission, moved) = scheduler.retrying(on: Self.readersCondition, { s -> (StageScheduler.Admission, Bool) in
            s.advanceClock(to: monotonicSeconds())
            return (s.submit(batch, ending: ending), s.hasInputOrderLane)
        }, until: { $0.0 != .full })
        if admission == .accepted {
            if moved { scheduler.notifyAll() } else { scheduler.notifyOne(Self.condition(of: firstCrew)) }
        }
        return admission == .accepted
    }

    /// The reader is done with a file: the ending travels down the stages, then to the
    /// sink. - Returns: false when the run is cancelled.
    func fileEnded(_ end: FileEnd) -> Bool {
        // Only an input-order stage's window moves with a file ending; FIFO lanes do not
        // change, so there is nobody to wake.
        let (open, moved) = scheduler.withLock { s in (s.fileEnded(end.file, batches: end.batches), s.hasInputOrderLane) }
        if moved { scheduler.notifyAll() }
        return open && sink.push(.fileEnd(end))
    }

    /// Every reader has finished.
    func inputFinished() {
        scheduler.withLockNotifying { $0.closeInput() }
    }

    /// Stops now (see the type's discussion).
    func cancel() {
        scheduler.withLockNotifying { $0.cancel() }
    }

    /// Per stage: batches waiting now, and the most that ever waited.
    var queueNumbers: (fills: [Int], highWater: [Int]) {
        scheduler.withLock { ($0.fills, $0.highWaterMarks) }
    }

    /// Where each stage's worker slots spent their time so far, and the seconds spent
    /// encoding output for the sink (see ``StageScheduler/SlotTimes``).
    var slotTimes: (stages: [StageScheduler.SlotTimes], encodeSeconds: Double) {
        scheduler.withLock { s in
            s.advanceClock(to: monotonicSeconds())
            return (s.slotTimes, s.encodeSeconds)
        }
    }

    // MARK: Threads

    /// The conditions whose waiters `s` now lets go on (bit `c`: condition `c`), so that
    /// a thread that finishes a batch wakes only threads that have something to do.
    private func wakeups(_ s: StageScheduler) -> UInt64 {
        var bits: UInt64 = s.admitsReaders ? 1 << UInt64(Self.readersCondition) : 0
        if sharedThreads > 0 && s.hasWork(on: .shared) { bits |= 1 << UInt64(Self.condition(of: .shared)) }
        for (k, step) in steps.enumerated() where step.spec.stage.blocksThread {
            let c = Self.condition(of: .dedicated(stage: k))
            if c >= 64 { return .max }   // more blocking stages than bits: wake everyone
            if s.hasWork(on: .dedicated(stage: k)) { bits |= 1 << UInt64(c) }
        }
        return bits
    }

    /// Wakes the waiters of the conditions in `bits` (every condition for `.max`).
    private func wake(_ bits: UInt64) {
        if bits == .max {
            scheduler.notifyAll()
            return
        }
        var rest = bits
        while rest != 0 {
            let c = rest.trailingZeroBitCount
            scheduler.notifyAll(c)
            rest &= rest - 1
        }
    }

    private func serve(_ crew: StageScheduler.Crew) {
        var carried: StageScheduler.Work?
        let last = steps.count - 1
        while true {
            let work = carried ?? scheduler.retrying(on: Self.condition(of: crew)) { s in
                s.advanceClock(to: monotonicSeconds())
                return s.take(on: crew)
            }
            carried = nil
            if case .run(0, _) = work, scheduler.withLock({ $0.admitsReaders }) {
                scheduler.notifyAll(Self.readersCondition)   // the first lane has room again
            }
            // `consume`: the batch bound below is then the only reference to its arrays,
            // so a stage's first write to them does not copy them (`work` held a second
            // one to the end of the iteration: a copy of every batch's record slots).
            switch consume work {
            case .exit:
                scheduler.notifyAll()
                return
            case .finish(let k, let closesSink):
                scheduler.notifyAll()
                steps[k].spec.stage.finish(context: steps[k].context)
                if closesSink { sink.close() }
            case .run(let k, var batch):
                let delta = steps[k].apply(&batch)
                if let delta { counters[k].add(delta) }
                if k == last {
                    // The stage's work ends here: encoding is the sink's (its own row in
                    // the summary), so a cheap last stage does not look like the bottleneck.
                    let (waking, ending) = scheduler.withLock { s in
                        s.advanceClock(to: monotonicSeconds())
                        s.handOff(stage: k)
                        return (wakeups(s), s.takeEnding(of: batch))
                    }
                    wake(waking)
                    let started = monotonicSeconds()
                    let encoded = ending.map { SinkMessage.lastBatch(encoder.encode(batch), $0) } ?? .batch(encoder.encode(batch))
                    let encodeSeconds = monotonicSeconds() - started
                    var delivered = sink.tryPush(encoded)
                    if delivered == nil {
                        scheduler.withLock { s in
                            s.advanceClock(to: monotonicSeconds())
                            s.sinkWait(1)
                        }
                        delivered = sink.push(encoded)
                        scheduler.withLock { s in
                            s.advanceClock(to: monotonicSeconds())
                            s.sinkWait(-1)
                        }
                    }
                    let mayEnd = scheduler.withLock { s in
                        s.advanceClock(to: monotonicSeconds())
                        return s.handedOff(encodeSeconds: encodeSeconds)
                    }
                    if mayEnd { scheduler.notifyAll() }
                    if delivered != true { cancel() }
                } else {
                    let (next, waking) = scheduler.withLock { s in
                        s.advanceClock(to: monotonicSeconds())
                        let next = s.complete(stage: k, batch: batch, fuseOn: crew)
                        return (next, wakeups(s))
                    }
                    carried = next
                    wake(waking)
                }
            }
        }
    }
}
