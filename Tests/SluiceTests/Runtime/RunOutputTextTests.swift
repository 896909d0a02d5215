import Foundation
import Logging
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// The texts a run shows people and log shippers: the progress line and JSON logs.
@Suite struct RunOutputTextTests {
    @Test func progressLineShowsFilesBytesRateEtaAndQueues() {
        let line = ProgressText.line(files: 3, totalFiles: 10, bytes: 25 << 20, totalBytes: 100 << 20, records: 50_000,
                                     elapsed: 10, queues: [("filter", 2, 8), ("shape", 8, 8)])
        #expect(line == "files 3/10  25.0/100.0 MiB  5000 rec/s  ETA 30s  queues: filter 2/8 shape 8/8")
        let long = ProgressText.line(files: 1, totalFiles: 2, bytes: 1 << 20, totalBytes: 200 << 20, records: 1, elapsed: 60, queues: [])
        #expect(long.contains("ETA 3h19m"))
        let done = ProgressText.line(files: 2, totalFiles: 2, bytes: 5, totalBytes: 5, records: 0, elapsed: 0, queues: [])
        #expect(done.contains("ETA 0s"))
    }

    @Test func jsonLogLinesAreOneObjectEach() throws {
        let sink = LineSink()
        var handler = JSONLogHandler(label: "sluice") { sink.append($0) }
        handler.metadata["run"] = "r1"
        let logger = Logger(label: "sluice") { _ in handler }
        logger.warning("file \"a\" skipped\nnext line", metadata: ["path": "a.json"])
        let lines = sink.lines
        #expect(lines.count == 1)
        #expect(lines[0].hasSuffix("\n"))
        #expect(lines[0].dropLast().contains("\n") == false)
        let object = try #require(JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(object["level"] as? String == "warning")
        #expect(object["message"] as? String == "file \"a\" skipped\nnext line")
        #expect((object["metadata"] as? [String: String]) == ["run": "r1", "path": "a.json"])
        #expect((object["ts"] as? String)?.hasSuffix("Z") == true)
    }
}

/// Log lines from the layer targets name the library as their source, as they did when it
/// was one module (the text log prints `[Sluice]`; swift-log's default is the calling module).
@Suite struct LogSourceTests {
    @Test func linesFromALowerLayerNameSluice() {
        let sources = LineSink()
        let logger = Logger(label: "sluice") { _ in SourceCapture(sources: sources) }
        let summary = RunSummary(
            runID: "r1", pipeline: "p", startedAt: "", endedAt: "", elapsedSeconds: 0,
            files: .init(seen: 0, processed: 0, failed: 0), records: .init(in: 0, out: 0, filtered: 0, failed: 0, discarded: 0),
            bytes: .init(read: 0, decoded: 0, written: 0), stages: [], outputs: [], errorReport: "", exitCode: 0)
        // SluiceIO's RunSummaryWriter logs an error for a summary path it cannot write.
        RunSummaryWriter(pipeline: "p", runID: "r1", extraPath: "/nonexistent-sluice-dir/summary.json", logger: logger)
            .write(summary, outputRoot: "/nonexistent-sluice-dir")
        #expect(sources.lines == ["Sluice"])
    }

    private struct SourceCapture: LogHandler {
        let sources: LineSink
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            sources.append(event.source)
        }
    }
}

final class LineSink: Sendable {
    private let stored = LockedBox([String]())
    func append(_ line: String) { stored.withLock { $0.append(line) } }
    var lines: [String] { stored.withLock { $0 } }
}
