import SluiceCore

/// The pure state machine behind ``StageExecutor``: which stage runs which batch next,
/// on which thread, within every stage's `workers` and `queue` bounds.
///
/// Each stage is a *lane*: a bounded queue of batches in front of it (or, for a stage
/// that needs input order, a ``ReorderWindow``), a count of batches it is running, and
/// the slots it has promised downstream. The executor's threads ask ``take(on:)`` for
/// work and report back with ``complete(stage:batch:fuseOn:)``; readers hand batches in
/// with ``submit(_:)`` and file endings with ``fileEnded(_:batches:)``. Nothing here
/// blocks or touches a thread: the executor holds the scheduler inside its lock and does
/// what it returns (see swift-async-algorithms' channel state machines for the pattern).
///
/// Guarantees, each tested without threads in `StageSchedulerTests`:
/// - A stage never runs more than its `workers` batches at once (an input-order stage
///   one at a time, in `(file, batch)` order).
/// - A lane never holds more than its `queue` batches: a batch is taken only when the
///   next lane has a free slot, which is then reserved for it, so finishing a batch never
///   waits (a thread never blocks holding work), and a full first lane holds the readers.
///   (An input-order lane still waiting for its next batch in sequence takes more: see
///   ``Lane/hasRoom``.)
/// - Downstream first: ``take(on:)`` prefers later stages, which drains the pipeline
///   and keeps memory low.
/// - Fusion: a thread that finishes a batch at stage *k* goes on with the same batch at
///   stage *k+1* when that stage has a free worker — the batch stays in the core's
///   cache and skips a queue hop — instead of queueing it.
/// - Blocking stages (a `command` waiting on a child) run only on their own threads;
///   the shared, core-count threads run only CPU stages.
/// - Accounting: ``advanceClock(to:)``, called with the time before each change, charges
///   every lane's worker slots to busy, waiting, blocked or ready (see ``SlotTimes``), so
///   the four add up to `workers` × the lane's span by construction.
struct StageScheduler: Sendable {
    /// Which lanes a thread serves.
    enum Crew: Equatable, Sendable {
        /// The shared threads (as many as cores): every CPU-only stage.
        case shared
        /// The own threads of a blocking stage.
        case dedicated(stage: Int)
    }

    /// What a thread does next.
    enum Work {
        /// Run `batch` through stage `stage`, then call ``complete(stage:batch:fuseOn:)``.
        case run(stage: Int, batch: Batch)
        /// Stage `stage` has run its last batch: call its `finish`; when `closesSink`, no
        /// batch will reach the sink any more.
        case finish(stage: Int, closesSink: Bool)
        /// Nothing is left for this crew: the thread ends.
        case exit
    }

    /// What ``submit(_:)`` did with a reader's batch.
    enum Admission: Equatable {
        case accepted
        /// The first lane is full: wait for a change and try again.
        case full
        case cancelled
    }

    struct Lane: Sendable {
        let workers: Int
        let capacity: Int
        let isBlocking: Bool
        /// Batches waiting, FIFO (nil for an input-order lane).
        var fifo: BatchFIFO?
        /// Batches waiting, in input order (input-order lanes).
        var window: ReorderWindow<Batch>?
        var running = 0
        /// Slots taken by batches that the previous lane is running now.
        var reserved = 0
        var highWater = 0
        /// The previous lane (or the readers) will send nothing more.
        var isInputClosed = false
        /// `finish` was handed out: the lane is over.
        var isDone = false

        var waiting: Int { fifo?.count ?? window?.pendingCount ?? 0 }
        /// Whether the lane takes one more batch. An input-order lane whose next batch in
        /// sequence has not arrived always does: the batch it waits for may be behind the
        /// ones it holds, and refusing it could only deadlock. Its excess is bounded by the
        /// ``AdmissionGate`` (every batch holds a ticket), as the sink's reorder buffer is.
        var hasRoom: Bool {
            if waiting + reserved < capacity { return true }
            if let window { return !window.hasNextItem }
            return false
        }
        var isRunnable: Bool {
            guard running < workers else { return false }
            if let fifo { return !fifo.isEmpty }
            return window?.hasNextItem ?? false
        }

        mutating func put(_ batch: Batch) {
            if fifo != nil {
                fifo!.append(batch)
            } else {
                window!.insert(batch, file: batch.file, batch: batch.index)
            }
            highWater = max(highWater, waiting)
        }

        mutating func takeNext() -> Batch? {
            if fifo != nil { return fifo!.popFirst() }
            return window!.nextItem()
        }
    }

    /// How each stage may run.
    struct StageShape: Equatable, Sendable {
        var workers: Int
        var queue: Int
        /// Runs batches one at a time in input order (`dedupe`, `limit`).
        var needsInputOrder = false
        /// Blocks its thread (a `command` stage): runs on its own threads.
        var isBlocking = false
    }

    /// Where a lane's worker slots spent the run, in slot-seconds (one slot per worker).
    struct SlotTimes: Sendable, Equatable {
        /// Running a batch of the stage.
        var busy = 0.0
        /// Free, with no batch to take: waiting for input.
        var waiting = 0.0
        /// Free, with a batch to take, but the next queue (or the sink's) has no room.
        var blocked = 0.0
        /// Free, with a batch and room for it, but every thread of the crew was busy
        /// elsewhere (the shared threads on other stages): a CPU-bound run.
        var ready = 0.0
        /// Seconds from the first change to the lane's end (its `finish`).
        var span = 0.0
    }

    private(set) var lanes: [Lane]
    private(set) var isCancelled = false
    /// Per lane, where its slots' time went (``advanceClock(to:)``).
    private(set) var slotTimes: [SlotTimes]
    private var clock: Double?
    /// Batches the last stage has run that are being encoded and pushed to the sink: the
    /// last lane is not over (the sink must not close) while one is.
    private(set) var handingOff = 0
    /// Threads waiting for room in the sink's queue: the last lane is then blocked.
    private(set) var sinkWaiters = 0
    /// Seconds the stage threads spent encoding output for the sink (not the last stage's).
    private(set) var encodeSeconds = 0.0
    /// Threads of the shared crew asleep, waiting for work (the executor counts them): a
    /// reader that runs stage work leaves a batch to one of them when there is one.
    var idleSharedThreads = 0

    init(stages: [StageShape], fileCount: Int) {
        precondition(!stages.isEmpty, "a pipeline has at least one stage")
        lanes = stages.map { shape in
            Lane(workers: shape.needsInputOrder ? 1 : max(1, shape.workers), capacity: max(1, shape.queue),
                 isBlocking: shape.isBlocking,
                 fifo: shape.needsInputOrder ? nil : BatchFIFO(),
                 window: shape.needsInputOrder ? ReorderWindow(fileCount: fileCount) : nil)
        }
        slotTimes = Array(repeating: SlotTimes(), count: lanes.count)
    }

    // MARK: Accounting

    /// Charges the time since the last call to each open lane's slots, by the state the
    /// lanes were in meanwhile (the state only changes under the executor's lock, right
    /// after this call). O(stages); one clock read per change, so a few per batch.
    mutating func advanceClock(to now: Double) {
        guard let last = clock else {
            clock = now
            return
        }
        let dt = now - last
        guard dt > 0 else { return }
        clock = now
        for k in lanes.indices where !lanes[k].isDone {
            let lane = lanes[k]
            let running = min(lane.running, lane.workers)
            let free = lane.workers - running
            let queued = lane.fifo?.count ?? ((lane.window?.hasNextItem ?? false) ? 1 : 0)
            let takeable = min(free, queued)
            let isBlocked = k == self.last ? sinkWaiters > 0 : !lanes[k + 1].hasRoom
            slotTimes[k].span += dt
            slotTimes[k].busy += Double(running) * dt
            slotTimes[k].waiting += Double(free - takeable) * dt
            if isBlocked {
                slotTimes[k].blocked += Double(takeable) * dt
            } else {
                slotTimes[k].ready += Double(takeable) * dt
            }
        }
    }

    /// The last stage ran `batch`: its slot is free, the batch goes on to be encoded and
    /// pushed to the sink; ``handedOff(encodeSeconds:)`` follows.
    mutating func handOff(stage k: Int) {
        _ = complete(stage: k, batch: nil, fuseOn: nil)
        handingOff += 1
    }

    /// A hand-off is done (the batch is in the sink's queue, or the run was cancelled).
    /// Returns true when this may end the last lane (wake the threads).
    mutating func handedOff(encodeSeconds seconds: Double) -> Bool {
        handingOff -= 1
        encodeSeconds += seconds
        return handingOff == 0 && !lanes[last].isDone && isOver(last)
    }

    /// A thread begins (`+1`) or ends (`-1`) waiting for room in the sink's queue.
    mutating func sinkWait(_ delta: Int) {
        sinkWaiters += delta
    }

    private var last: Int { lanes.count - 1 }

    /// True when `crew` serves `stage`.
    func serves(_ crew: Crew, _ stage: Int) -> Bool {
        switch crew {
        case .shared: return !lanes[stage].isBlocking
        case .dedicated(let k): return k == stage
        }
    }

    // MARK: Readers

    /// A reader's batch for the first stage.
    mutating func submit(_ batch: Batch) -> Admission {
        if isCancelled { return .cancelled }
        guard lanes[0].hasRoom else { return .full }
        lanes[0].put(batch)
        return .accepted
    }

    /// The reader is done with `file`, which gave `batches` batches. The ending travels
    /// down the lanes as the batches do (an input-order lane needs it to move past the
    /// file); the caller then hands it to the sink. Returns false when cancelled.
    mutating func fileEnded(_ file: Int, batches: Int) -> Bool {
        if isCancelled { return false }
        for k in lanes.indices where lanes[k].window != nil {
            lanes[k].window!.finishFile(file, batches: batches, failure: nil)
        }
        return true
    }

    /// Whether some lane runs in input order (only those change with a file ending).
    var hasInputOrderLane: Bool { lanes.contains { $0.window != nil } }

    /// Endings of files whose last batch is on its way through the lanes (see
    /// ``submit(_:ending:)``), by file: the executor hands each to the sink with that batch.
    private(set) var endings: [Int: FileEnd] = [:]

    /// A reader's last batch of a file, with the file's ending: ``submit(_:)`` and
    /// ``fileEnded(_:batches:)`` at once; the ending waits here for its batch to leave the
    /// last lane (``takeEnding(of:)``).
    mutating func submit(_ batch: Batch, ending: FileEnd) -> Admission {
        let admission = submit(batch)
        if admission == .accepted {
            _ = fileEnded(ending.file, batches: ending.batches)
            endings[ending.file] = ending
        }
        return admission
    }

    /// The ending that travels with `batch` (its file's last), when it does.
    mutating func takeEnding(of batch: Batch) -> FileEnd? {
        guard let ending = endings[batch.file], ending.batches == batch.index + 1 else { return nil }
        endings[batch.file] = nil
        return ending
    }

    /// Every reader has finished: the first lane gets nothing more.
    mutating func closeInput() {
        lanes[0].isInputClosed = true
    }

    // MARK: Threads

    /// The next work for a thread of `crew`, or nil when it must wait for a change.
    mutating func take(on crew: Crew) -> Work? {
        // A lane that has run its last batch finishes first: that closes the next lane.
        for k in lanes.indices where !lanes[k].isDone && isOver(k) {
            lanes[k].isDone = true
            if k < last { lanes[k + 1].isInputClosed = true }
            return .finish(stage: k, closesSink: k == last)
        }
        if !isCancelled {
            for k in lanes.indices.reversed() where serves(crew, k) && canStart(k) {
                return .run(stage: k, batch: start(k))
            }
        }
        let open = lanes.indices.contains { serves(crew, $0) && !lanes[$0].isDone }
        return open ? nil : .exit
    }

    /// Whether ``take(on:)`` would give `crew` something now (work, a `finish`, or
    /// `exit`): a change wakes a crew's sleeping threads only then. Waking them after
    /// every batch, to find nothing, cost two futile wake-ups per tiny batch.
    func hasWork(on crew: Crew) -> Bool {
        for k in lanes.indices where !lanes[k].isDone && isOver(k) { return true }
        if !isCancelled {
            for k in lanes.indices where serves(crew, k) && canStart(k) { return true }
        }
        return !lanes.indices.contains { serves(crew, $0) && !lanes[$0].isDone }
    }

    /// Whether a reader's ``submit(_:)`` would not answer `full` now.
    var admitsReaders: Bool { isCancelled || lanes[0].hasRoom }

    /// A thread finished `batch` at `stage`. For any stage but the last, the batch moves
    /// on: returned to go on at once at the next stage on the same thread (fusion), when
    /// `fuseOn` serves it and it has a free worker; otherwise queued there (into the slot
    /// reserved when the batch was taken). The last stage's batch has gone to the sink.
    mutating func complete(stage k: Int, batch: Batch?, fuseOn crew: Crew?) -> Work? {
        lanes[k].running -= 1
        guard k < last, let batch else { return nil }
        lanes[k + 1].reserved -= 1
        if isCancelled { return nil }
        let next = k + 1
        if let crew, serves(crew, next), lanes[next].fifo != nil, lanes[next].running < lanes[next].workers,
           next == last || lanes[next + 1].hasRoom {
            begin(next)
            return .run(stage: next, batch: batch)
        }
        lanes[next].put(batch)
        return nil
    }

    /// Stops at once: queued batches are dropped; running ones finish and go nowhere.
    mutating func cancel() {
        isCancelled = true
        for k in lanes.indices {
            if lanes[k].fifo != nil { lanes[k].fifo = BatchFIFO() }
            if let window = lanes[k].window { lanes[k].window = ReorderWindow(fileCount: window.fileCount) }
        }
    }

    // MARK: Numbers (progress, summary)

    /// Batches waiting in front of each stage now.
    var fills: [Int] { lanes.map(\.waiting) }
    /// The most batches that ever waited in front of each stage.
    var highWaterMarks: [Int] { lanes.map(\.highWater) }
    /// Batches each stage is running now.
    var runningCounts: [Int] { lanes.map(\.running) }

    // MARK: Private

    private func canStart(_ k: Int) -> Bool {
        lanes[k].isRunnable && (k == last || lanes[k + 1].hasRoom)
    }

    private mutating func start(_ k: Int) -> Batch {
        let batch = lanes[k].takeNext()!
        begin(k)
        return batch
    }

    private mutating func begin(_ k: Int) {
        lanes[k].running += 1
        if k < last { lanes[k + 1].reserved += 1 }
    }

    /// Lane `k` will run nothing more: its input is closed (or the run cancelled), nothing
    /// waits in it, nothing runs in it, and the lane before it is over.
    private func isOver(_ k: Int) -> Bool {
        let lane = lanes[k]
        guard lane.running == 0, k < last || handingOff == 0 else { return false }
        if isCancelled { return k == 0 || lanes[k - 1].isDone }
        return lane.isInputClosed && lane.waiting == 0 && lane.reserved == 0
    }
}

/// A FIFO of batches: an array with a moving head, compacted as it drains (a taken slot
/// is cleared at once, so a batch's buffers are freed as soon as its stage is done).
struct BatchFIFO: Sendable {
    private var items: [Batch?] = []
    private var head = 0

    var count: Int { items.count - head }
    var isEmpty: Bool { head == items.count }

    mutating func append(_ batch: Batch) { items.append(batch) }

    mutating func popFirst() -> Batch? {
        guard head < items.count else { return nil }
        let batch = items[head].take()
        head += 1
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 32 {
            items.removeFirst(head)
            head = 0
        }
        return batch
    }
}
