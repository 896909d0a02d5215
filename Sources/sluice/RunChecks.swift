import Foundation
import Sluice

/// Exit codes `sluice run` adds to the run's own (0, 1, 2, 4, 130/143); see README "Exit codes".
/// The command line's own exit codes, named once in ``ExitStatus`` with the rest.
enum RunExit {
    static let filesFailed = ExitStatus.filesFailed
    static let ledgerRefused = ExitStatus.ledgerRefused
}

/// Checks `sluice run` and `--dry-run` make before touching the output directory.
enum RunChecks {
    /// The output directory a run of `config` uses (`OUTPUT/shard-I-of-N` for a shard).
    static func outputRoot(_ config: PipelineConfig, output: String?, shard: Shard?) -> String {
        let root = output ?? config.output.path
        guard let shard else { return root }
        return URL(fileURLWithPath: root).appendingPathComponent(shard.directoryName).path
    }

    /// Why the input directory cannot be read, naming the absolute path, where it came
    /// from and the working directory; nil when it is a directory, a regular file (read
    /// alone) or `-` (standard input).
    static func inputProblem(_ root: String, fromCommandLine: Bool, config: PipelineConfig) -> String? {
        if root == StandardInput.path { return nil }
        let absolute = URL(fileURLWithPath: root).standardizedFileURL.path
        var info = stat()
        let problem: String
        if stat(absolute, &info) != 0 {
            problem = errno == ENOENT || errno == ENOTDIR ? "does not exist" : "cannot be read: \(String(cString: strerror(errno)))"
        } else if info.st_mode & S_IFMT != S_IFDIR && info.st_mode & S_IFMT != S_IFREG {
            problem = "is neither a directory nor a regular file"
        } else {
            return nil
        }
        let source = fromCommandLine ? "--input '\(root)'" : "input.path in \(config.sourcePath)"
        let cwd = FileManager.default.currentDirectoryPath
        return "input directory \(absolute) \(problem) (\(source); working directory \(cwd)); nothing was written"
    }

    /// One stderr line per file that failed as a whole, read back from the run's error
    /// report (the lines that carry `discarded`); returns how many it printed.
    @discardableResult
    static func reportFailedFiles(errorReport: String, expected: Int) -> Int {
        guard expected > 0 else { return 0 }
        var printed = 0
        if !errorReport.isEmpty, let file = fopen(errorReport, "r") {
            defer { fclose(file) }
            var line: UnsafeMutablePointer<CChar>?
            var capacity = 0
            defer { free(line) }
            while getline(&line, &capacity, file) > 0, let line {
                // Only file-level lines have `discarded`; skip the (many) record lines fast.
                guard strstr(line, "\"discarded\":") != nil else { continue }
                let data = Data(bytes: line, count: strlen(line))
                guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
                      let name = object["file"] as? String, let discarded = object["discarded"] as? Int else { continue }
                let kind = (object["kind"] as? String) ?? "io"
                let message = ((object["message"] as? String) ?? "").prefix(300)
                let records = discarded == 1 ? "1 record" : "\(discarded) records"
                printError("sluice: \(name): failed (\(kind)): \(message); \(records) withheld, retried next run")
                printed += 1
            }
        }
        if printed < expected {
            printError("sluice: \(expected - printed) more file\(expected - printed == 1 ? "" : "s") failed; see \(errorReport.isEmpty ? "the error report" : errorReport)")
        }
        return printed
    }
}
