import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension RunReport {
    /// Why no summary could be found or read.
    public struct FileError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// The summary a `RUN` argument names: a summary file; or an output directory and a
    /// run id (`NAME-RUNID.summary.json`, or the `failed-summary` of a withheld run); or,
    /// without a run id, the directory's latest run (by start time).
    public static func summaryPath(for run: String, runID: String?) throws(FileError) -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: run, isDirectory: &isDirectory) else {
            throw FileError(description: "\(run): no such file or directory")
        }
        guard isDirectory.boolValue else {
            if runID != nil { throw FileError(description: "--run-id needs an output directory, not the summary file \(run)") }
            return run
        }
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: run)) ?? [])
            .filter { $0.hasSuffix(".summary.json") || $0.hasSuffix(".failed-summary.json") }
        if let runID {
            let matching = names.filter { $0.hasSuffix("-\(runID).summary.json") || $0.hasSuffix("-\(runID).failed-summary.json") }
            guard let name = matching.sorted().first else {
                throw FileError(description: "\(run): no summary of run \(runID) (NAME-\(runID).summary.json)")
            }
            return URL(fileURLWithPath: run).appendingPathComponent(name).path
        }
        var latest: (start: String, path: String)?
        for name in names {
            let path = URL(fileURLWithPath: run).appendingPathComponent(name).path
            guard let summary = try? load(path) else { continue }
            if latest == nil || (summary.startedAt, path) > (latest!.start, latest!.path) { latest = (summary.startedAt, path) }
        }
        guard let latest else { throw FileError(description: "\(run): no run summary (*.summary.json) in this directory") }
        return latest.path
    }

    /// Reads a summary file.
    public static func load(_ path: String) throws(FileError) -> RunSummary {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw FileError(description: "\(path): cannot read: \(error.localizedDescription)")
        }
        do {
            return try JSONDecoder().decode(RunSummary.self, from: data)
        } catch {
            throw FileError(description: "\(path): not a run summary: \(error)")
        }
    }

    /// The report's default place: beside its summary (`NAME-RUNID.report.html`).
    public static func reportPath(forSummary path: String) -> String {
        for suffix in [".failed-summary.json", ".summary.json", ".json"] where path.hasSuffix(suffix) {
            return String(path.dropLast(suffix.count)) + ".report.html"
        }
        return path + ".report.html"
    }

    /// The report of a run just finished, in its output directory beside its summary;
    /// nil when the run wrote no summary there (another run held the lock).
    public static func pathBeside(_ summary: RunSummary, outputRoot: String) -> String? {
        let root = URL(fileURLWithPath: outputRoot)
        for kind in ["summary", "failed-summary"] {
            let path = root.appendingPathComponent("\(summary.pipeline)-\(summary.runID).\(kind).json").path
            if FileManager.default.fileExists(atPath: path) { return reportPath(forSummary: path) }
        }
        return nil
    }

    /// Writes `html` to `path` through a temporary file and a rename.
    public static func write(_ html: String, to path: String) throws(FileError) {
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())").path
        do {
            try Data(html.utf8).write(to: URL(fileURLWithPath: temporary))
        } catch {
            throw FileError(description: "\(path): cannot write: \(error.localizedDescription)")
        }
        if rename(temporary, path) != 0 {
            let message = String(cString: strerror(errno))
            unlink(temporary)
            throw FileError(description: "\(path): cannot write: \(message)")
        }
    }
}
