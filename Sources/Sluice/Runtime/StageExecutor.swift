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
/// Readers are core threads too (``readersRun``): when no stage blocks a thread, a reader
/// that has framed a batch runs it through the stages itself (``submitAndRun(_:ending:)``)
/// — decode, parse, transform, encode and deflate of one batch on one core, while its
/// bytes are still in that core's cache — and the executor starts only the shared threads
/// the readers leave of the cores (none for 2 readers on 2 cores). A reader whose files
/// are done serves the stages like any shared thread; while one sleeps, waiting for
/// work, the readers still reading leave their batches to it and read on, so the last
/// file's decode and its stages run side by side. Before, 2 readers and 2 shared threads
/// were 4 CPU-bound threads on 2 cores, and every batch was decoded on one core and
/// parsed on the other.
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
    /// Threads that run the CPU stages: the shared threads started here, plus the readers
    /// when they run stage work too (tests, the summary).
    let sharedThreads: Int
    /// Shared threads this executor starts itself.
    let ownSharedThreads: Int
    /// Whether readers run stage work (``submitAndRun(_:ending:)``): when there are shared
    /// threads at all and no stage blocks its thread. A blocking stage's threads hand
    /// batches to the shared crew, and a reader waiting for its admission would not see
    /// them: then readers only read, as before.
    let readersRun: Bool
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
    ///   - readers: reader threads that will call ``submitAndRun(_:ending:)`` (0: readers
    ///     that call ``submit(_:)`` only).
    init(steps: [StageStep], counters: [StageCounters], fileCount: Int, encoder: OutputEncoder,
         sink: BoundedQueue<SinkMessage>, cores: Int = ProcessorCount.available, readers: Int = 0) {
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
        (sharedThreads, ownSharedThreads, readersRun) = Self.threads(shapes, cores: cores, readers: readers)
    }

    /// The threads for `stages` on `cores` cores with `readers` readers: how many run CPU
    /// stages (`shared`), how many of those the executor starts (`own`), and whether the
    /// readers run stage work (see ``readersRun``).
    static func threads(_ stages: [StageScheduler.StageShape], cores: Int, readers: Int) -> (shared: Int, own: Int, readersRun: Bool) {
        let shared = sharedThreadCount(stages, cores: cores)
        guard readers > 0, shared > 0, !stages.contains(where: \.isBlocking) else { return (shared, shared, false) }
        let own = max(0, shared - readers)
        return (own + readers, own, true)
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
        for t in 0..<ownSharedThreads {
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
        if moved {
            scheduler.notifyAll()
            if readersRun { _ = runUntilIdle() }   // batches of later files may start now
        }
        return open && sink.push(.fileEnd(end))
    }

    // MARK: Readers that run stage work

    /// What a reader's try at handing in a batch came to.
    private enum Handover {
        /// In the first lane; `runs`: nobody sleeps who would take it, so the reader runs
        /// work itself; `wakesAll`: an input-order window moved.
        case accepted(runs: Bool, wakesAll: Bool)
        /// The first lane is full: run this first, then try again.
        case full(StageScheduler.Work)
        case cancelled
    }

    /// For a reader when ``readersRun``: hands `batch` (with its file's `ending` when it is
    /// the file's last) to the first stage; then, unless a shared thread sleeps and can
    /// take it, runs stage work itself until nothing more can start — mostly this very
    /// batch, through every stage (fused) and into the sink. While the first stage's queue
    /// is full it runs work too, and waits only when no work can start.
    /// - Parameter ran: seconds spent running stage work are added here.
    /// - Returns: false when the run is cancelled (the batch is dropped).
    func submitAndRun(_ batch: consuming Batch, ending: FileEnd?, ran: inout Double) -> Bool {
        // Moved into the lane, not copied: a stage's first write to the batch's arrays
        // must not find a second reference (the caller's) and copy them.
        var pending: Batch? = consume batch
        while true {
            let handover = scheduler.retrying(on: Self.readersCondition) { s -> Handover? in
                s.advanceClock(to: monotonicSeconds())
                if s.isCancelled { return .cancelled }
                guard s.admitsReaders else {
                    if let work = s.take(on: .shared) { return .full(work) }
                    return nil   // every slot that could empty the lane is busy: wait
                }
                let runs = s.idleSharedThreads == 0
                if let ending {
                    _ = s.submit(pending.take()!, ending: ending)
                    return .accepted(runs: runs, wakesAll: s.hasInputOrderLane)
                }
                _ = s.submit(pending.take()!)
                return .accepted(runs: runs, wakesAll: false)
            }
            switch handover {
            case .cancelled:
                return false
            case .full(let work):
                let started = monotonicSeconds()
                runFused(work)
                ran += monotonicSeconds() - started
            case .accepted(let runs, let wakesAll):
                if wakesAll {
                    scheduler.notifyAll()
                } else if !runs {
                    scheduler.notifyOne(Self.condition(of: .shared))
                }
                if runs {
                    let started = monotonicSeconds()
                    _ = runUntilIdle()
                    ran += monotonicSeconds() - started
                }
                return true
            }
        }
    }

    /// For a reader when ``readersRun``: a ticket of `gate` for a batch of `file`, running
    /// stage work while none is free (the sink frees tickets as batches that threads like
    /// this one finish reach it). - Returns: false when the run is cancelled.
    func acquire(_ gate: AdmissionGate, file: Int, ran: inout Double) -> Bool {
        if let admitted = gate.acquire(file: file, waitingAtMost: 0) { return admitted }
        while true {
            let started = monotonicSeconds()
            let didRun = runUntilIdle()
            ran += monotonicSeconds() - started
            // Each batch that runs here was waiting for a thread: look again at once. With
            // nothing to run, wait briefly for a ticket, then look for work again (work
            // arrives from other threads without a signal on the gate's lock).
            if let admitted = gate.acquire(file: file, waitingAtMost: didRun ? 0 : 0.002) { return admitted }
        }
    }

    /// A reader's batch (with its file's `ending` when it is the file's last): a ticket of
    /// `gate`, then the first stage — run by this reader when ``readersRun`` (see
    /// ``submitAndRun(_:ending:ran:)``), queued for the shared threads otherwise.
    /// - Returns: false when the run is cancelled.
    func hand(_ batch: consuming Batch, ending: FileEnd?, gate: AdmissionGate, file: Int, ran: inout Double) -> Bool {
        if readersRun {
            guard acquire(gate, file: file, ran: &ran) else { return false }
            return submitAndRun(batch, ending: ending, ran: &ran)
        }
        guard gate.acquire(file: file) else { return false }
        if let ending { return submit(batch, ending: ending) }
        return submit(batch)
    }

    /// A reader whose files are done: serves the shared lanes like a shared thread until
    /// they are over.
    func serveAsSharedThread() {
        serve(.shared)
    }

    /// Runs shared work until none can start now. Returns whether it ran any.
    private func runUntilIdle() -> Bool {
        var didRun = false
        while true {
            let work = scheduler.withLock { s -> StageScheduler.Work? in
                s.advanceClock(to: monotonicSeconds())
                return s.take(on: .shared)
            }
            guard let work else { return didRun }
            if case .exit = work { return didRun }
            didRun = true
            runFused(work)
        }
    }

    /// Runs `work` and whatever fuses onto it (the same batch at the next stages).
    private func runFused(_ work: consuming StageScheduler.Work) {
        var next: StageScheduler.Work? = consume work
        while let current = next.take() {
            if case .exit = current { return }
            next = perform(current, on: .shared)
        }
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
        let counted = crew == .shared
        while true {
            let work = carried.take() ?? scheduler.retrying(on: Self.condition(of: crew), { s in
                s.advanceClock(to: monotonicSeconds())
                return s.take(on: crew)
            }, sleeping: { s, asleep in
                if counted { s.idleSharedThreads += asleep ? 1 : -1 }
            })
            if case .exit = work {
                scheduler.notifyAll()
                return
            }
            carried = perform(work, on: crew)
        }
    }

    /// Runs one piece of work (not `.exit`) on a thread of `crew`. Returns the work fused
    /// onto it: the same batch at the next stage, to run at once on this thread.
    private func perform(_ work: consuming StageScheduler.Work, on crew: StageScheduler.Crew) -> StageScheduler.Work? {
        let last = steps.count - 1
        if case .run(0, _) = work, scheduler.withLock({ $0.admitsReaders }) {
            scheduler.notifyAll(Self.readersCondition)   // the first lane has room again
        }
        // `consume`: the batch bound below is then the only reference to its arrays,
        // so a stage's first write to them does not copy them (`work` held a second
        // one to the end of the iteration: a copy of every batch's record slots).
        switch consume work {
        case .exit:
            return nil
        case .finish(let k, let closesSink):
            scheduler.notifyAll()
            steps[k].spec.stage.finish(context: steps[k].context)
            if closesSink { sink.close() }
            return nil
        case .run(let k, var batch):
            let delta = steps[k].apply(&batch)
            if let delta { counters[k].add(delta) }
            guard k == last else {
                let (next, waking) = scheduler.withLock { s in
                    s.advanceClock(to: monotonicSeconds())
                    let next = s.complete(stage: k, batch: batch, fuseOn: crew)
                    return (next, wakeups(s))
                }
                wake(waking)
                return next
            }
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
            return nil
        }
    }
}
