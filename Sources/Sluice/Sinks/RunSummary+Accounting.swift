import Foundation

extension RunSummary {
    /// The reader threads' time, summed over threads (each from its start to its last file).
    public struct ReaderStats: Codable, Sendable, Equatable {
        public var threads: Int
        /// Reading, decompressing and framing: busy = decode + frame.
        public var busySeconds: Double
        /// Reading and decompressing (waiting for the codec's next chunk).
        public var decodeSeconds: Double
        /// Cutting records and filling batches.
        public var frameSeconds: Double
        /// Waiting for room in the first stage's queue (or the sink's, for a file ending):
        /// the stages or the sink could not keep up.
        public var blockedSeconds: Double
        /// Seconds the reader threads existed, summed (a thread ends with the files).
        public var spanSeconds: Double
        /// busy / (threads × the stages' span), 0…1.
        public var utilisation: Double

        public init(threads: Int, busySeconds: Double, decodeSeconds: Double, frameSeconds: Double,
                    blockedSeconds: Double, spanSeconds: Double, utilisation: Double) {
            self.threads = threads
            self.busySeconds = busySeconds
            self.decodeSeconds = decodeSeconds
            self.frameSeconds = frameSeconds
            self.blockedSeconds = blockedSeconds
            self.spanSeconds = spanSeconds
            self.utilisation = utilisation
        }

        enum CodingKeys: String, CodingKey {
            case threads, busySeconds = "busy_seconds", decodeSeconds = "decode_seconds", frameSeconds = "frame_seconds",
                 blockedSeconds = "blocked_seconds", spanSeconds = "span_seconds", utilisation
        }
    }

    /// The sink's time. Encoding (and output compression) runs on the stage threads, right
    /// after the last stage; writing on the one sink thread.
    public struct SinkStats: Codable, Sendable, Equatable {
        /// Encoding and compressing output, on the stage threads.
        public var encodeSeconds: Double
        /// The sink thread writing outputs and the error report, in input order.
        public var writeSeconds: Double
        /// The sink thread waiting for the next batch (or file ending).
        public var waitingSeconds: Double
        /// Ending the outputs (footers) and flushing them to disk (fsync) before the commit.
        public var sealSeconds: Double
        /// Seconds the sink thread ran.
        public var spanSeconds: Double
        public var queueCapacity: Int
        public var queueHighWater: Int
        /// write / span, 0…1: the one sink thread's load.
        public var utilisation: Double

        package init(encodeSeconds: Double, writeSeconds: Double, waitingSeconds: Double, sealSeconds: Double,
                     spanSeconds: Double, queueCapacity: Int, queueHighWater: Int, utilisation: Double) {
            self.encodeSeconds = encodeSeconds
            self.writeSeconds = writeSeconds
            self.waitingSeconds = waitingSeconds
            self.sealSeconds = sealSeconds
            self.spanSeconds = spanSeconds
            self.queueCapacity = queueCapacity
            self.queueHighWater = queueHighWater
            self.utilisation = utilisation
        }

        enum CodingKeys: String, CodingKey {
            case encodeSeconds = "encode_seconds", writeSeconds = "write_seconds", waitingSeconds = "waiting_seconds",
                 sealSeconds = "seal_seconds", spanSeconds = "span_seconds", queueCapacity = "queue_capacity",
                 queueHighWater = "queue_high_water", utilisation
        }
    }

    /// Samples over the run, one per `interval_seconds`: every queue's depth (mean over the
    /// interval, in batches) and every stage's records in per second. At most
    /// ``Timeline/capacity`` samples: a longer run merges neighbouring pairs and doubles
    /// the interval, so a day-long run keeps the same size as a minute-long one.
    public struct Timeline: Codable, Sendable, Equatable {
        public static let capacity = 480
        public var intervalSeconds: Double
        public var stages: [Series]
        /// The queue in front of the sink.
        public var sinkQueueDepth: [Double]

        package init(intervalSeconds: Double, stages: [Series], sinkQueueDepth: [Double]) {
            self.intervalSeconds = intervalSeconds
            self.stages = stages
            self.sinkQueueDepth = sinkQueueDepth
        }

        public struct Series: Codable, Sendable, Equatable {
            public var name: String
            public var queueDepth: [Double]
            public var recordsPerSecond: [Double]

            package init(name: String, queueDepth: [Double], recordsPerSecond: [Double]) {
                self.name = name
                self.queueDepth = queueDepth
                self.recordsPerSecond = recordsPerSecond
            }

            enum CodingKeys: String, CodingKey {
                case name, queueDepth = "queue_depth", recordsPerSecond = "records_per_second"
            }
        }

        enum CodingKeys: String, CodingKey {
            case intervalSeconds = "interval_seconds", stages, sinkQueueDepth = "sink_queue_depth"
        }
    }

    /// Records written to one output route and partition ("" outside the partitioned
    /// layout; the route is "" for a single `output`).
    public struct OutputRecords: Codable, Sendable, Equatable {
        public var route: String
        public var partition: String
        public var records: Int

        package init(route: String, partition: String, records: Int) {
            self.route = route
            self.partition = partition
            self.records = records
        }
    }

    /// Error-report lines (failed records and failed files) by where they came from.
    public struct ErrorCounts: Codable, Sendable, Equatable {
        public struct ByKind: Codable, Sendable, Equatable {
            public var stage: String
            public var kind: String
            public var count: Int

            package init(stage: String, kind: String, count: Int) {
                self.stage = stage
                self.kind = kind
                self.count = count
            }
        }
        public struct ByFile: Codable, Sendable, Equatable {
            public var file: String
            public var count: Int

            package init(file: String, count: Int) {
                self.file = file
                self.count = count
            }
        }
        /// Every (stage, kind) with its lines, most first.
        public var byKind: [ByKind]
        /// The input files with the most lines, most first (at most ``topFileCount``).
        public var topFiles: [ByFile]
        public static let topFileCount = 10

        enum CodingKeys: String, CodingKey {
            case byKind = "by_kind", topFiles = "top_files"
        }
    }
}

extension RunSummary.ErrorCounts {
    /// Sorted as the summary lists them: most first, then by name.
    package init(kinds: [String: Int], files: [String: Int]) {
        byKind = kinds.map { key, count in
            let parts = key.split(separator: "\u{0}", maxSplits: 1).map(String.init)
            return ByKind(stage: parts[0], kind: parts.count > 1 ? parts[1] : "", count: count)
        }.sorted { ($1.count, $0.stage, $0.kind) < ($0.count, $1.stage, $1.kind) }
        topFiles = files.map { ByFile(file: $0.key, count: $0.value) }
            .sorted { ($1.count, $0.file) < ($0.count, $1.file) }
            .prefix(Self.topFileCount).map { $0 }
    }

    /// Key of a (stage, kind) pair in the dictionaries above.
    package static func key(stage: String, kind: String) -> String { stage + "\u{0}" + kind }
}
