import Foundation
import Logging

/// What a run tidies in its output directory once it has committed: an error report that
/// came out empty is removed (the summary then names none), and `output.keep_runs` prunes
/// the summaries and error reports of this pipeline's older runs.
///
/// Pruning goes by the run summaries (`NAME-RUNID.summary.json`, `NAME` this pipeline's):
/// a pruned run loses its summary and the error report its run id names
/// (`errors-RUNID.ndjson` under `errors.path`). Outputs, the ledger, the journal and
/// anything not named that way are never touched; run ids are ordered by their start
/// time (`20261129T011212Z-3f9a`), and summaries whose name holds no such run id are kept.
struct RunHousekeeping {
    let pipeline: String
    let outputRoot: String
    let runID: String
    /// `errors.path`, as configured (the run id goes into its name).
    let errorsPath: String
    let retention: RunRetention?
    let logger: Logger
    var now = Date()

    /// Removes `errorReport` when it is empty — unless a mirror output's ledger entry names
    /// it (`mirror`), as recovery checks those still exist — then prunes; returns the error
    /// report the summary should name ("" once removed).
    func run(errorReport: String, mirror: Bool) -> String {
        var kept = errorReport
        if !errorReport.isEmpty, !mirror, let size = (try? FileManager.default.attributesOfItem(atPath: errorReport))?[.size] as? Int,
           size == 0, unlink(errorReport) == 0 {
            kept = ""
        }
        if let retention { prune(retention) }
        return kept
    }

    /// The run ids of this pipeline's summaries in the output directory, oldest first.
    func summarizedRuns() -> [String] {
        let prefix = pipeline + "-", suffix = ".summary.json"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: outputRoot)) ?? []
        return names.compactMap { name -> String? in
            guard name.hasPrefix(prefix), name.hasSuffix(suffix) else { return nil }
            let id = String(name.dropFirst(prefix.count).dropLast(suffix.count))
            return Self.startDate(ofRunID: id) == nil ? nil : id
        }.sorted()
    }

    private func prune(_ retention: RunRetention) {
        let older = summarizedRuns().filter { $0 != runID }
        let doomed: [String]
        switch retention {
        case .count(let n):
            doomed = Array(older.dropLast(max(0, n - 1)))
        case .age(let seconds):
            doomed = older.filter { id in Self.startDate(ofRunID: id).map { now.timeIntervalSince($0) > seconds } ?? false }
        }
        var removed = 0
        for id in doomed {
            let report = URL(fileURLWithPath: outputRoot).appendingPathComponent(PipelineRun.errorReportName(errorsPath, runID: id)).path
            if unlink(report) != 0 && errno != ENOENT {
                logger.warning("cannot prune \(report): \(String(cString: strerror(errno)))")
                continue
            }
            let summary = URL(fileURLWithPath: outputRoot).appendingPathComponent("\(pipeline)-\(id).summary.json").path
            if unlink(summary) == 0 { removed += 1 } else { logger.warning("cannot prune \(summary): \(String(cString: strerror(errno)))") }
        }
        if removed > 0 { logger.info("pruned the summaries and error reports of \(removed) older run\(removed == 1 ? "" : "s") (output.keep_runs)") }
    }

    /// The start time a run id carries (`20261129T011212Z-3f9a`), or nil for another name.
    static func startDate(ofRunID id: String) -> Date? {
        let parts = id.split(separator: "-")
        guard parts.count == 2, parts[0].count == 16, parts[1].count == 4,
              parts[1].allSatisfy({ $0.isHexDigit }) else { return nil }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.date(from: String(parts[0]))
    }
}
