import SluiceCore

/// How a config will run: threads, queues and the memory bound that follows from them.
///
/// The runtime sizes its queues and its ``AdmissionGate`` from a plan, and `sluice
/// explain` prints the same plan, so what a user reads is what runs.
public struct PipelinePlan: Codable, Sendable, Equatable {
    public struct StagePlan: Codable, Sendable, Equatable {
        public var name: String
        public var kind: String
        public var workers: Int
        /// Capacity of the stage's input queue, in batches.
        public var queue: Int
    }

    public var pipeline: String
    /// Files read at once.
    public var readers: Int
    /// Records per batch.
    public var batchSize: Int
    public var maxRecordBytes: Int
    public var maxBatchBytes: Int
    public var stages: [StagePlan]
    /// Capacity of the queue in front of the sink, in batches.
    public var sinkQueue: Int
    /// Batches that can exist at once anywhere between the readers and the sink: the
    /// admission gate's capacity (every queue full, every worker holding one, every
    /// reader filling one, the sink's reorder buffer using the rest).
    public var batchesInFlight: Int
    /// Finished batches of later files that may wait at the sink, beyond
    /// ``batchesInFlight``, while the sink commits the head file (it commits in input
    /// order): with several readers, a reader ahead of the head file keeps reading instead
    /// of stopping once the queues' worth is out. They hold encoded output only (the
    /// batch's text and tape are gone), so each counts once its bound, not 3.5 times.
    /// Measured on the XML bench (4 files, 2 readers, the parse on the readers): readers
    /// blocked 1.8–2.1 s of a 3.1–3.5 s run with no room, 0.6–1.0 s with it.
    ///
    /// The room is bounded by bytes, ``reorderBytes``, and this count only caps how many
    /// batches that is: with 48 batches (the earlier fixed room) a later file of 198
    /// batches could get only 44 % ahead, and the last of 4 XML files ran alone for the
    /// last ~17 % of the run while the other core idled.
    public var reorderBatches: Int
    /// What the waiting finished batches of later files may hold (their encoded output,
    /// see ``AdmissionGate``): past it, a reader ahead of the head file waits.
    public var reorderBytes: Int
    /// ``reorderBatches`` per reader beyond the first.
    static let reorderBatchesPerExtraReader = 1024
    /// ``reorderBytes`` per reader beyond the first.
    static let reorderBytesPerExtraReader = 64 << 20
    /// Threads of a run: readers + the stage threads started besides them + the own
    /// threads of blocking stages (`command`) + the sink.
    public var threads: Int
    /// Shared threads that run the CPU-only stages: at most the cores this process may use
    /// (`cores`), and no more than those stages could use at once.
    public var stageThreads: Int
    /// Of ``stageThreads``, those started for the stages alone: the rest are readers that
    /// run stage work between batches (see ``readersRunStages``).
    public var ownStageThreads: Int
    /// Whether the readers run their batches through the stages themselves (no stage
    /// blocks its thread): then ``stageThreads`` is the readers plus ``ownStageThreads``.
    public var readersRunStages: Bool
    /// The cores the plan was made for (the process's, unless given).
    public var cores: Int
    /// What decoding one compressed file may hold at most (a zstd/xz window up to
    /// `input.max_window`, or parallel bzip2 segments); gzip needs ~1 MiB.
    public var decoderBytesPerReader: Int
    /// Row groups buffered by file formats (Parquet): per open output or partition.
    public var outputBufferBytes: Int
    /// The most bytes of record text one batch can hold: a batch closes once it passes
    /// `max_batch_bytes`, and the record that passed it is at most `max_record_bytes`.
    public var batchBytesBound: Int
    /// Upper bound of the memory the run's batches use: batches in flight × the batch
    /// bound × 3.5 (record text, plus a tape that is ~2.5× the text for typical records;
    /// arrays of one-digit numbers reach 10×), plus the readers' buffers and 32 MiB for
    /// the runtime itself.
    public var memoryBoundBytes: Int
    /// The same estimate when records average 1 KiB (batches then close on `batch_size`).
    public var memoryAt1KiBRecords: Int
    /// What stages hold besides batches (dedupe keys, lookup tables, command pipes); in
    /// both figures above.
    public var stageMemory: [StageMemory] = []

    /// Memory a stage holds of its own.
    public struct StageMemory: Codable, Sendable, Equatable {
        public var stage: String
        public var kind: String
        /// At most (dedupe: `max_keys` keys; command: a batch in and out per worker).
        public var boundBytes: Int
        /// With 1 KiB records (dedupe: one key per record of a 1 M-record run, at most max_keys).
        public var typicalBytes: Int
        /// What the figures count.
        public var note: String

        enum CodingKeys: String, CodingKey {
            case stage, kind, boundBytes = "bound_bytes", typicalBytes = "typical_bytes", note
        }
    }

    enum CodingKeys: String, CodingKey {
        case pipeline, readers, batchSize = "batch_size", maxRecordBytes = "max_record_bytes",
             maxBatchBytes = "max_batch_bytes", stages, sinkQueue = "sink_queue",
             batchesInFlight = "batches_in_flight", reorderBatches = "reorder_batches", reorderBytes = "reorder_bytes", threads, stageThreads = "stage_threads", ownStageThreads = "own_stage_threads", readersRunStages = "readers_run_stages", cores,
             decoderBytesPerReader = "decoder_bytes_per_reader", outputBufferBytes = "output_buffer_bytes",
             batchBytesBound = "batch_bytes_bound",
             memoryBoundBytes = "memory_bound_bytes", memoryAt1KiBRecords = "memory_at_1kib_records",
             stageMemory = "stage_memory"
    }

    /// Per dedupe key: the set entry (~80 bytes) plus the key, taken as 20 bytes.
    static let dedupeKeyBytes = 100

    /// Per reader: one read chunk, one inflate chunk and zlib's window (~1 MiB, rounded up).
    static let readerBufferBytes = 1 << 20
    static let runtimeBytes = 32 << 20

    public init(config: PipelineConfig, stages: [StageSpec], cores: Int = ProcessorCount.available) {
        pipeline = config.name
        readers = config.input.readers
        batchSize = config.batchSize
        maxRecordBytes = config.input.maxRecordBytes
        maxBatchBytes = config.input.maxBatchBytes
        self.stages = stages.map { StagePlan(name: $0.name, kind: $0.kind, workers: $0.workers, queue: $0.queue) }
        sinkQueue = max(8, 2 * (stages.last?.workers ?? 1))
        batchesInFlight = stages.reduce(0) { $0 + $1.queue + $1.workers } + readers + sinkQueue
        reorderBatches = max(0, readers - 1) * Self.reorderBatchesPerExtraReader
        reorderBytes = max(0, readers - 1) * Self.reorderBytesPerExtraReader
        self.cores = cores
        let shapes = stages.map {
            StageScheduler.StageShape(workers: $0.workers, queue: $0.queue, needsInputOrder: $0.stage.needsInputOrder,
                                      isBlocking: $0.stage.blocksThread)
        }
        let plan = StageExecutor.threads(shapes, cores: cores, readers: readers)
        stageThreads = plan.shared
        ownStageThreads = plan.own
        readersRunStages = plan.readersRun
        threads = readers + plan.own + stages.filter(\.stage.blocksThread).reduce(0) { $0 + max(1, $1.workers) } + 1
        batchBytesBound = maxBatchBytes + maxRecordBytes
        decoderBytesPerReader = config.input.codecs.decoderMemoryBound
        outputBufferBytes = config.output.effectiveRoutes.reduce(0) { $0 + $1.spec.bufferedBytesBound }
        let fixed = readers * Self.readerBufferBytes + Self.runtimeBytes + outputBufferBytes
        stageMemory = Self.stageMemory(stages, batchBytes: batchBytesBound, typicalBatchBytes: min(batchBytesBound, batchSize * 1024))
        let stagesBound = stageMemory.reduce(0) { $0 + $1.boundBytes }
        let reorderBound = Self.reorderBound(batches: reorderBatches, bytes: reorderBytes, inFlight: batchesInFlight, batchBytes: batchBytesBound)
        memoryBoundBytes = batchesInFlight * batchBytesBound * 7 / 2 + reorderBound + fixed
            + readers * decoderBytesPerReader + stagesBound
        // The typical figure: 1 KiB records and gzip or plain input (no large window).
        let typicalBatch = min(batchBytesBound, batchSize * 1024)
        memoryAt1KiBRecords = batchesInFlight * 7 / 2 * typicalBatch + min(reorderBatches * typicalBatch, reorderBytes) + fixed
            + stageMemory.reduce(0) { $0 + $1.typicalBytes }
    }

    /// The most the waiting finished batches of later files hold: the byte room, plus the
    /// batches admitted while it was not yet full (at most every batch in flight, each at
    /// most its bound), and never more than ``reorderBatches`` whole batches.
    public var reorderBoundBytes: Int {
        Self.reorderBound(batches: reorderBatches, bytes: reorderBytes, inFlight: batchesInFlight, batchBytes: batchBytesBound)
    }

    static func reorderBound(batches: Int, bytes: Int, inFlight: Int, batchBytes: Int) -> Int {
        batches == 0 ? 0 : min(batches * batchBytes, bytes + inFlight * batchBytes)
    }

    /// The memory of stages that hold more than their batches.
    static func stageMemory(_ stages: [StageSpec], batchBytes: Int, typicalBatchBytes: Int) -> [StageMemory] {
        stages.compactMap { spec -> StageMemory? in
            if let dedupe = spec.stage as? DedupeStage {
                return StageMemory(stage: spec.name, kind: spec.kind, boundBytes: dedupe.maxKeys * dedupeKeyBytes,
                                   typicalBytes: min(dedupe.maxKeys, 1_000_000) * dedupeKeyBytes,
                                   note: "max_keys \(dedupe.maxKeys) keys × ~\(dedupeKeyBytes) B (80 B + a 20-byte key)")
            }
            if let lookup = spec.stage as? LookupStage {
                let bytes = lookup.referenceMemoryBytes
                return StageMemory(stage: spec.name, kind: spec.kind, boundBytes: bytes, typicalBytes: bytes,
                                   note: "\(lookup.referenceRows) reference rows, loaded whole")
            }
            if spec.stage.blocksThread {
                let workers = max(1, spec.workers)
                return StageMemory(stage: spec.name, kind: spec.kind, boundBytes: workers * 2 * batchBytes,
                                   typicalBytes: workers * 2 * typicalBatchBytes,
                                   note: "\(workers) worker\(workers == 1 ? "" : "s") × a batch written and one read (the children's own memory is not counted)")
            }
            return nil
        }
    }

    /// A finished run's figures in place of the 1 KiB assumption: its mean record size,
    /// the dedupe keys it kept, the batches its queues held at most.
    public func typicalBytes(from run: RunSummary) -> (bytes: Int, recordBytes: Int) {
        let recordBytes = run.records.in > 0 ? max(1, run.bytes.decoded / run.records.in) : 1024
        let batch = min(batchBytesBound, batchSize * recordBytes)
        // Batches that existed at once: what the queues held at most, one per worker, readers, sink queue.
        var held = readers + (run.sink?.queueHighWater ?? sinkQueue)
        for stage in stages {
            let seen = run.stages.first { $0.name == stage.name }
            held += (seen?.queueHighWater ?? stage.queue) + stage.workers
        }
        held = min(held, batchesInFlight)
        let fixed = readers * Self.readerBufferBytes + Self.runtimeBytes + outputBufferBytes
        var total = held * batch * 7 / 2 + fixed
        for m in stageMemory {
            if m.kind == "dedupe", let seen = run.stages.first(where: { $0.name == m.stage }) {
                total += min(m.boundBytes, seen.recordsOut * Self.dedupeKeyBytes)
            } else if m.kind == "lookup" {
                total += m.boundBytes
            } else {
                total += m.typicalBytes * batch / max(1, min(batchBytesBound, batchSize * 1024))
            }
        }
        return (total, recordBytes)
    }

    /// The plan as text for `sluice explain`.
    public var text: String {
        var lines: [String] = []
        lines.append("pipeline \(pipeline)")
        lines.append("  read      \(readers) reader thread\(readers == 1 ? "" : "s"), batches of \(batchSize) records (≤ \(Self.size(batchBytesBound)) each)")
        for (i, stage) in stages.enumerated() {
            lines.append("  stage \(i + 1)   \(stage.name) (\(stage.kind)): \(stage.workers) worker\(stage.workers == 1 ? "" : "s"), queue \(stage.queue) batches")
        }
        lines.append("  sink      1 thread, queue \(sinkQueue) batches, commits in input order")
        let own = threads - readers - ownStageThreads - 1
        let onCores = "on \(cores) core\(cores == 1 ? "" : "s")"
        let crew = readersRunStages
            ? "\(readers == 1 ? "1 reader that also runs" : "\(readers) readers that also run") the stages, \(ownStageThreads) more stage thread\(ownStageThreads == 1 ? "" : "s") \(onCores)"
            : "\(readers) reader\(readers == 1 ? "" : "s"), \(stageThreads) shared stage thread\(stageThreads == 1 ? "" : "s") \(onCores)"
        lines.append("threads: \(threads) (\(crew)\(own > 0 ? ", \(own) for blocking stages" : ""), 1 sink)")
        lines.append("batches in flight: at most \(batchesInFlight)\(reorderBatches > 0 ? ", and up to \(Self.size(reorderBytes)) of later files' finished output (≤ \(reorderBatches) batches) waiting for the sink's input order" : "")")
        if outputBufferBytes > 0 {
            lines.append("output buffers: \(Self.size(outputBufferBytes)) (Parquet row groups, one per open output or partition)")
        }
        lines.append("decoders: up to \(Self.size(decoderBytesPerReader)) per reader for zstd/xz input (input.max_window); ~1 MiB for gzip")
        for m in stageMemory {
            lines.append("stage memory: \(m.stage) (\(m.kind)): up to \(Self.size(m.boundBytes)) (\(m.note))")
        }
        lines.append("memory bound: \(Self.size(memoryBoundBytes)) (\(batchesInFlight) batches × \(Self.size(batchBytesBound)) × 3.5\(reorderBatches > 0 ? " + \(Self.size(reorderBoundBytes)) waiting output" : "") + decoders + buffers\(stageMemory.isEmpty ? "" : " + stages")); with 1 KiB records and gzip input: \(Self.size(memoryAt1KiBRecords))")
        return lines.joined(separator: "\n") + "\n"
    }

    public static func size(_ bytes: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : (value >= 100 ? "\(Int(value.rounded())) \(units[unit])" : "\((value * 10).rounded() / 10) \(units[unit])")
    }
}
