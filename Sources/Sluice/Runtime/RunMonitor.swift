import Foundation
import Logging
import SluiceCore
import SluiceIO
#if canImport(Glibc)
import Glibc
#endif

/// Live numbers of a run for the progress line and the metrics file, read by the
/// supervisor thread while the run's threads update them.
final class RunProgress: @unchecked Sendable {
    private let lock = ConditionLock()
    private var filesDone = 0
    private var filesFailed = 0
    private var bytesRead = 0

    func fileCommitted(failed: Bool, bytes: Int) {
        lock.withLock {
            filesDone += 1
            if failed { filesFailed += 1 }
            bytesRead += bytes
        }
    }

    var totals: (files: Int, failed: Int, bytes: Int) { lock.withLock { (filesDone, filesFailed, bytesRead) } }
}

/// The numbers the metrics file exposes: a run in progress or finished.
struct MetricsSnapshot {
    var pipeline: String
    var durationSeconds: Double
    var filesSeen: Int
    var filesProcessed: Int
    var filesFailed: Int
    var filesSkipped: Int
    var filesLeft: Int
    var recordsIn: Int
    var recordsOut: Int
    var stages: [RunSummary.StageStats]
    /// nil while the run is in progress.
    var exitCode: Int32?
    /// Unix seconds of the last run that exited 0 (this one, or carried over).
    var lastSuccess: Double?
}

/// Prometheus text exposition (format 0.0.4) for node_exporter's textfile collector.
enum PrometheusText {
    static func render(_ s: MetricsSnapshot) -> String {
        var out = ""
        let p = "pipeline=\"\(escape(s.pipeline))\""
        func gauge(_ name: String, _ help: String, _ samples: [(String, Double)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) gauge\n"
            for (labels, value) in samples { out += "\(name){\(labels)} \(format(value))\n" }
        }
        gauge("sluice_run_in_progress", "1 while a run is going, 0 once it ended.", [(p, s.exitCode == nil ? 1 : 0)])
        gauge("sluice_run_duration_seconds", "Seconds since the run started (its length once it ended).", [(p, s.durationSeconds)])
        if let code = s.exitCode { gauge("sluice_run_exit_code", "Exit code of the last run.", [(p, Double(code))]) }
        gauge("sluice_files", "Input files of the run, by state.", [
            (p + ",state=\"seen\"", Double(s.filesSeen)), (p + ",state=\"processed\"", Double(s.filesProcessed)),
            (p + ",state=\"failed\"", Double(s.filesFailed)), (p + ",state=\"skipped\"", Double(s.filesSkipped)),
            (p + ",state=\"left\"", Double(s.filesLeft)),
        ])
        gauge("sluice_records", "Records of the run read and written.", [
            (p + ",direction=\"in\"", Double(s.recordsIn)), (p + ",direction=\"out\"", Double(s.recordsOut)),
        ])
        func perStage(_ name: String, _ help: String, _ value: (RunSummary.StageStats) -> Double) {
            gauge(name, help, s.stages.map { (p + ",stage=\"\(escape($0.name))\"", value($0)) })
        }
        perStage("sluice_stage_records_in", "Records that entered the stage.") { Double($0.recordsIn) }
        perStage("sluice_stage_records_out", "Records the stage passed on.") { Double($0.recordsOut) }
        perStage("sluice_stage_records_failed", "Records the stage turned into error lines.") { Double($0.recordsFailed) }
        perStage("sluice_stage_records_filtered", "Records the stage dropped on purpose.") { Double($0.recordsFiltered) }
        perStage("sluice_stage_busy_seconds", "Seconds the stage's workers spent on batches, summed.") { $0.busySeconds }
        perStage("sluice_stage_queue_capacity", "Capacity of the stage's input queue, in batches.") { Double($0.queueCapacity) }
        perStage("sluice_stage_queue_high_water", "Most batches the stage's input queue held.") { Double($0.queueHighWater) }
        if let last = s.lastSuccess {
            gauge("sluice_last_success_timestamp_seconds", "Unix time the last successful run ended.", [(p, last)])
        }
        return out
    }

    /// Writes `text` to `path` through a temporary file and a rename, so that a scraper
    /// never reads half a file.
    static func write(_ text: String, to path: String) throws {
        let temporary = URL(fileURLWithPath: path).deletingLastPathComponent()
            .appendingPathComponent(".\(URL(fileURLWithPath: path).lastPathComponent).tmp-\(getpid())").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: temporary))
        if rename(temporary, path) != 0 {
            let code = errno
            unlink(temporary)
            throw SinkError.io(path: path, operation: "rename", errno: code)
        }
    }

    /// The `sluice_last_success_timestamp_seconds` of an earlier file, carried over by a
    /// run that does not succeed (so "time since the last success" alerts keep working).
    static func lastSuccess(in path: String) -> Double? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("sluice_last_success_timestamp_seconds{") {
            if let value = line.split(separator: " ").last.flatMap({ Double($0) }) { return value }
        }
        return nil
    }

    private static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    private static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(format: "%.3f", value)
    }
}

/// One progress line: files and bytes done of total, records/s, ETA, queue fill.
enum ProgressText {
    static func line(files: Int, totalFiles: Int, bytes: Int, totalBytes: Int, records: Int, elapsed: Double,
                     queues: [(name: String, fill: Int, capacity: Int)]) -> String {
        let rate = elapsed > 0 ? Double(records) / elapsed : 0
        var eta = "--"
        if bytes > 0, totalBytes > bytes, elapsed > 0 {
            let seconds = Int(elapsed * Double(totalBytes - bytes) / Double(bytes))
            eta = seconds >= 3600 ? "\(seconds / 3600)h\(seconds % 3600 / 60)m" : seconds >= 60 ? "\(seconds / 60)m\(seconds % 60)s" : "\(seconds)s"
        } else if totalBytes > 0, bytes >= totalBytes {
            eta = "0s"
        }
        let fill = queues.map { "\($0.name) \($0.fill)/\($0.capacity)" }.joined(separator: " ")
        return "files \(files)/\(totalFiles)  \(mib(bytes))/\(mib(totalBytes)) MiB  \(Int(rate)) rec/s  ETA \(eta)  queues: \(fill)"
    }

    private static func mib(_ bytes: Int) -> String { String(format: "%.1f", Double(bytes) / 1_048_576) }
}

/// `--verbose` (log level info): one line per input file as the sink commits it, in input
/// order — its records in, out, filtered and failed, its bytes, and how long it took at
/// the head of the run (since the file before it was committed, or since the sink began).
/// Called on the sink thread only.
final class FileLog: @unchecked Sendable {
    private let files: [InputFile]
    private let logger: Logger
    private var last = RunSummary.Records(in: 0, out: 0, filtered: 0, failed: 0, discarded: 0)
    private var lastTime = monotonicSeconds()

    init(files: [InputFile], logger: Logger) {
        self.files = files
        self.logger = logger
    }

    /// The run's cumulative records after `outcome`'s file was committed.
    func committed(_ outcome: ReorderingSink.FileOutcome, records: RunSummary.Records) {
        let now = monotonicSeconds()
        defer {
            last = records
            lastTime = now
        }
        guard logger.logLevel <= .info, outcome.file < files.count else { return }
        let name = files[outcome.file].relativePath
        let seconds = String(format: "%.3fs", now - lastTime)
        let position = "\(outcome.file + 1)/\(files.count)"
        switch outcome.status {
        case .done:
            logger.info("file \(position) \(name): done, \(records.in - last.in) records in, \(records.out - last.out) out, \(records.filtered - last.filtered) filtered, \(records.failed - last.failed) failed; \(outcome.fileBytes) bytes in \(seconds)")
        case .unchanged:
            logger.info("file \(position) \(name): unchanged (touched, same content), nothing written; \(outcome.fileBytes) bytes in \(seconds)")
        case .failed:
            logger.info("file \(position) \(name): failed (\(outcome.failure?.kind.rawValue ?? "io")): \(outcome.failure?.message ?? ""); \(records.discarded - last.discarded) records withheld, in \(seconds)")
        }
    }
}
