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
    /// Threads of a run: readers + the shared stage threads + the own threads of blocking
    /// stages (`command`) + the sink.
    public var threads: Int
    /// Shared threads that run the CPU-only stages: at most the cores this process may use
    /// (`cores`), and no more than those stages could use at once.
    public var stageThreads: Int
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

    enum CodingKeys: String, CodingKey {
        case pipeline, readers, batchSize = "batch_size", maxRecordBytes = "max_record_bytes",
             maxBatchBytes = "max_batch_bytes", stages, sinkQueue = "sink_queue",
             batchesInFlight = "batches_in_flight", threads, stageThreads = "stage_threads", cores,
             decoderBytesPerReader = "decoder_bytes_per_reader", outputBufferBytes = "output_buffer_bytes",
             batchBytesBound = "batch_bytes_bound",
             memoryBoundBytes = "memory_bound_bytes", memoryAt1KiBRecords = "memory_at_1kib_records"
    }

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
        self.cores = cores
        let shapes = stages.map {
            StageScheduler.StageShape(workers: $0.workers, queue: $0.queue, needsInputOrder: $0.stage.needsInputOrder,
                                      isBlocking: $0.stage.blocksThread)
        }
        stageThreads = StageExecutor.sharedThreadCount(shapes, cores: cores)
        threads = readers + stageThreads + stages.filter(\.stage.blocksThread).reduce(0) { $0 + max(1, $1.workers) } + 1
        batchBytesBound = maxBatchBytes + maxRecordBytes
        decoderBytesPerReader = config.input.codecs.decoderMemoryBound
        outputBufferBytes = config.output.effectiveRoutes.reduce(0) { $0 + $1.spec.bufferedBytesBound }
        let fixed = readers * Self.readerBufferBytes + Self.runtimeBytes + outputBufferBytes
        memoryBoundBytes = batchesInFlight * batchBytesBound * 7 / 2 + fixed + readers * decoderBytesPerReader
        // The typical figure: 1 KiB records and gzip or plain input (no large window).
        memoryAt1KiBRecords = batchesInFlight * min(batchBytesBound, batchSize * 1024) * 7 / 2 + fixed
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
        let own = threads - readers - stageThreads - 1
        lines.append("threads: \(threads) (\(readers) readers, \(stageThreads) shared stage thread\(stageThreads == 1 ? "" : "s") on \(cores) core\(cores == 1 ? "" : "s")\(own > 0 ? ", \(own) for blocking stages" : ""), 1 sink)")
        lines.append("batches in flight: at most \(batchesInFlight)")
        if outputBufferBytes > 0 {
            lines.append("output buffers: \(Self.size(outputBufferBytes)) (Parquet row groups, one per open output or partition)")
        }
        lines.append("decoders: up to \(Self.size(decoderBytesPerReader)) per reader for zstd/xz input (input.max_window); ~1 MiB for gzip")
        lines.append("memory bound: \(Self.size(memoryBoundBytes)) (\(batchesInFlight) batches × \(Self.size(batchBytesBound)) × 3.5 + decoders + buffers); with 1 KiB records and gzip input: \(Self.size(memoryAt1KiBRecords))")
        return lines.joined(separator: "\n") + "\n"
    }

    static func size(_ bytes: Int) -> String {
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
