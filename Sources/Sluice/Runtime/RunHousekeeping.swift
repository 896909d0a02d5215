import Foundation
import Logging

/// What a run tidies in its output directory once it has committed: `output.keep_runs`
/// prunes the run summaries of this pipeline's older runs, and the HTML report beside each
/// (`NAME-RUNID.report.html`, from `sluice run --report`), which no ledger entry names.
///
/// Pruning goes by the run summaries (`NAME-RUNID.summary.json`, `NAME` this pipeline's);
/// run ids are ordered by their start time (`20261129T011212Z-3f9a`), and summaries whose
/// name holds no such run id are kept. Outputs, error reports, the ledger and its journal
/// are never touched: `sluice ledger rebuild` restores a file as done only while every
/// output of its run — the error report included — exists, so removing a report (even an
/// empty one) would make the next run process that run's files again. A run that rejected
/// nothing writes no error report at all, and its ledger entry names none.
struct RunHousekeeping {
    let pipeline: String
    let outputRoot: String
    let runID: String
    let retention: RunRetention?
    let logger: Logger
    var now = Date()

    func run() {
        if let retention { prune(retention) }
    }

    /// The run ids of this pipeline's summaries in the output directory, oldest first: by
    /// the start second the id carries, then (runs started in the same second) by when the
    /// summary was written — runs on one directory never overlap (the lock), so that is
    /// their order.
    func summarizedRuns() -> [String] {
        let prefix = pipeline + "-", suffix = ".summary.json"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: outputRoot)) ?? []
        let runs = names.compactMap { name -> (id: String, start: Date, written: Int)? in
            guard name.hasPrefix(prefix), name.hasSuffix(suffix) else { return nil }
            let id = String(name.dropFirst(prefix.count).dropLast(suffix.count))
            guard let start = Self.startDate(ofRunID: id) else { return nil }
            var info = stat()
            let path = URL(fileURLWithPath: outputRoot).appendingPathComponent(name).path
            let written = stat(path, &info) == 0 ? Int(info.st_mtim.tv_sec) * 1_000_000_000 + Int(info.st_mtim.tv_nsec) : 0
            return (id, start, written)
        }
        return runs.sorted { ($0.start, $0.written, $0.id) < ($1.start, $1.written, $1.id) }.map(\.id)
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
            let summary = URL(fileURLWithPath: outputRoot).appendingPathComponent("\(pipeline)-\(id).summary.json").path
            if unlink(summary) == 0 { removed += 1 } else { logger.warning("cannot prune \(summary): \(String(cString: strerror(errno)))") }
            let report = URL(fileURLWithPath: outputRoot).appendingPathComponent("\(pipeline)-\(id).report.html").path
            if unlink(report) != 0, errno != ENOENT { logger.warning("cannot prune \(report): \(String(cString: strerror(errno)))") }
        }
        if removed > 0 { logger.info("pruned the summaries of \(removed) older run\(removed == 1 ? "" : "s") (output.keep_runs)") }
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
