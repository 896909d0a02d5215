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

final class LineSink: Sendable {
    private let stored = LockedBox([String]())
    func append(_ line: String) { stored.withLock { $0.append(line) } }
    var lines: [String] { stored.withLock { $0 } }
}
