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
        scheduler = LockedBox(StageScheduler(stages: shapes, fileCount: fileCount))
        sharedThreads = Self.sharedThreadCount(shapes, cores: cores)
    }

    /// Shared threads for `stages` on `cores` cores: never more than the cores, nor more
    /// than the CPU stages could use at once.
    static func sharedThreadCount(_ stages: [StageScheduler.StageShape], cores: Int) -> Int {
        let usable = stages.filter { !$0.isBlocking }.reduce(0) { $0 + ($1.needsInputOrder ? 1 : max(1, $1.workers)) }
        return usable == 0 ? 0 : max(1, min(cores, usable))
    }

    /// Starts the threads.
    func start() {
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
        let admission = scheduler.retrying({ $0.submit(batch) }, until: { $0 != .full })
        scheduler.notifyAll()
        return admission == .accepted
    }

    /// The reader is done with a file: the ending travels down the stages, then to the
    /// sink. - Returns: false when the run is cancelled.
    func fileEnded(_ end: FileEnd) -> Bool {
        let open = scheduler.withLockNotifying { $0.fileEnded(end.file, batches: end.batches) }
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

    // MARK: Threads

    private func serve(_ crew: StageScheduler.Crew) {
        var carried: StageScheduler.Work?
        while true {
            let work = carried ?? scheduler.retrying { $0.take(on: crew) }
            carried = nil
            switch work {
            case .exit:
                scheduler.notifyAll()
                return
            case .finish(let k, let closesSink):
                scheduler.notifyAll()
                steps[k].spec.stage.finish(context: steps[k].context)
                if closesSink { sink.close() }
            case .run(let k, var batch):
                let started = monotonicSeconds()
                let delta = steps[k].apply(&batch)
                if k == steps.count - 1 {
                    let encoded = encoder.encode(batch)
                    if let delta { counters[k].add(delta, busy: monotonicSeconds() - started) }
                    let delivered = sink.push(.batch(encoded))
                    scheduler.withLockNotifying { _ = $0.complete(stage: k, batch: nil, fuseOn: nil) }
                    if !delivered { cancel() }
                } else {
                    if let delta { counters[k].add(delta, busy: monotonicSeconds() - started) }
                    carried = scheduler.withLockNotifying { $0.complete(stage: k, batch: batch, fuseOn: crew) }
                }
            }
        }
    }
}
