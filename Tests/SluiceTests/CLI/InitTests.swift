import Foundation
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// `sluice init DIR --config FILE` writes a config that runs as it is on DIR, from any
/// working directory: on every fixture directory and on generated directories of each
/// kind, including the traps (NDJSON stored as `.json.gz`, a format that only shows up
/// after the first files by path).
@Suite(.serialized) struct InitTests {
    typealias Child = CronTests.Child

    /// Runs init from one working directory and the config from another; returns the summary.
    static func initAndRun(_ data: URL, in dir: URL) throws -> (summary: RunSummary, config: String, stderr: String) {
        let work = dir.appendingPathComponent("work")
        try FileManager.default.createDirectory(at: work.appendingPathComponent("conf"), withIntermediateDirectories: true)
        let made = try Child(["init", data.path, "--config", "conf/p.yaml", "--output", "out"], in: dir, currentDirectory: work)
        #expect(made.wait() == 0, "\(made.errorText)")
        let config = work.appendingPathComponent("conf/p.yaml")
        let text = String(decoding: TestSupport.read(config), as: UTF8.self)
        let summaryPath = dir.appendingPathComponent("summary.json")
        let elsewhere = dir.appendingPathComponent("elsewhere")
        try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
        let run = try Child(["run", config.path, "--summary", summaryPath.path], in: dir, currentDirectory: elsewhere)
        let code = run.wait()
        // 3: a file failed; 1: and the starter's errors.max_error_rate (5 %) was exceeded by it.
        #expect([0, 1, 3].contains(code), "\(run.errorText)")
        let summary = try JSONDecoder().decode(RunSummary.self, from: Data(contentsOf: summaryPath))
        #expect(summary.outputs.allSatisfy { $0.hasPrefix(work.appendingPathComponent("out").path) },
                "output.path given on the command line is the working directory's: \(summary.outputs)")
        return (summary, text, run.errorText)
    }

    @Test(arguments: ["orders", "orders-xml", "outputs/in"]) func fixtureDirectory(fixture: String) throws {
        let dir = TestSupport.temporaryDirectory("sluice-init")
        defer { TestSupport.cleanup(dir) }
        let (summary, text, stderr) = try Self.initAndRun(TestSupport.fixture(fixture), in: dir)
        #expect(summary.records.out > 0, "\(text)")
        #expect(text.contains("path: \"../../"), "relative to the config file: \(text)")
        // Only the deliberately broken file of each fixture fails.
        let failed = stderr.split(separator: "\n").filter { $0.contains(": failed (") }
        #expect(summary.files.failed == failed.count)
        #expect(failed.allSatisfy { $0.contains("broken") }, "\(stderr)")
        #expect(summary.files.failed <= 1, "\(stderr)\n\(text)")
    }

    enum Kind: String, CaseIterable { case ndjsonAsJSONGz, jsonArrays, jsonDocuments, xml, lateXML, plainNDJSON }

    static func generate(_ kind: Kind, into data: URL) throws {
        func put(_ name: String, _ text: String, gzip: Bool = false) throws {
            let url = data.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(gzip ? TestSupport.gzip(Array(text.utf8)) : Array(text.utf8)).write(to: url)
        }
        for i in 0..<7 {
            switch kind {
            case .ndjsonAsJSONGz:
                try put("day-\(i).json.gz", "{\"id\":\(i),\"v\":\"a\"}\n{\"id\":\(i + 100),\"v\":\"b\"}\n", gzip: true)
            case .jsonArrays:
                try put("sub/\(i).json", "[{\"id\":\(i)},{\"id\":\(i + 100)}]")
            case .jsonDocuments:
                try put("\(i).json", "{\n  \"id\": \(i),\n  \"nested\": {\"k\": 1}\n}\n")
            case .xml:
                try put("\(i).xml.gz", "<orders><order id=\"\(i)\"><total>1</total></order><order id=\"\(i + 100)\"/></orders>", gzip: true)
            case .lateXML:
                // The first five files by path are JSON arrays; XML only comes later.
                try put("a\(i).json", "[{\"id\":\(i)}]")
                try put("z\(i).xml", "<r><item><id>\(i)</id></item></r>")
            case .plainNDJSON:
                try put("log-\(i).ndjson", "{\"id\":\(i)}\n")
            }
        }
    }

    @Test(arguments: Kind.allCases) func generatedDirectory(kind: Kind) throws {
        let dir = TestSupport.temporaryDirectory("sluice-init")
        defer { TestSupport.cleanup(dir) }
        let data = dir.appendingPathComponent("data")
        try Self.generate(kind, into: data)
        let (summary, text, stderr) = try Self.initAndRun(data, in: dir)
        #expect(summary.exitCode == 0 && summary.files.failed == 0, "\(stderr)\n\(text)")
        #expect(summary.files.processed == (kind == .lateXML ? 14 : 7), "\(text)")
        #expect(summary.records.out >= 7)
        if kind == .ndjsonAsJSONGz { #expect(text.contains("format: ndjson"), "\(text)") }
        if kind == .lateXML { #expect(text.contains("format: auto"), "\(text)") }
    }
}
