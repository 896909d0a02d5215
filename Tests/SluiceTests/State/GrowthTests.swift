import Foundation
import Testing
@testable import Sluice

/// A file that grows is read from where it stopped (issue 16), through the real binary:
/// appended NDJSON lines and gzip members are processed once, numbered on from the old
/// lines; a rewrite still follows `input.on_change`.
@Suite(.serialized) struct GrowthTests {
    static func config(_ dir: URL, include: String = "*.ndjson*", extra: String = "") throws -> URL {
        let config = dir.appendingPathComponent("p.yaml")
        try TestSupport.write("""
            name: t
            input: { path: in, include: ["\(include)"]\(extra) }
            stages:
              - name: check
                validate: { required: [id] }
            output: { path: out }
            errors: { max_error_rate: 1 }
            """, to: config)
        return config
    }

    static func append(_ text: String, to url: URL) throws {
        let handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
        try handle.close()
    }

    static func append(_ bytes: [UInt8], to url: URL) throws {
        let handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(bytes))
        try handle.close()
    }

    /// Every line of the files in `out` whose names start with `prefix`.
    static func lines(_ out: URL, prefix: String) -> [String] {
        OneOffInputTests.lines(out, prefix: prefix)
    }

    static func errorLines(_ out: URL) -> [(line: Int, message: String)] {
        lines(out, prefix: "errors-").compactMap { text in
            guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { return nil }
            return ((object["line"] as? Int) ?? 0, (object["message"] as? String) ?? "")
        }
    }

    static func run(_ config: URL, _ more: [String] = []) throws -> CLITests.Outcome {
        try CLITests.sluice(["run", config.path, "--verbose"] + more)
    }

    @Test func appendedLinesAreReadOnceAndNumberedOn() throws {
        let dir = TestSupport.temporaryDirectory("sluice-grow")
        defer { TestSupport.cleanup(dir) }
        let input = dir.appendingPathComponent("in")
        try FileManager.default.createDirectory(at: input, withIntermediateDirectories: true)
        let log = input.appendingPathComponent("app.ndjson")
        try TestSupport.write("{\"id\":1}\n{\"id\":2}\n", to: log)
        let config = try Self.config(dir)
        let out = dir.appendingPathComponent("out")

        let first = try Self.run(config)
        #expect(first.code == 0, "\(first.stderr)")

        // Three lines more, one rejected, the last without a newline yet.
        try Self.append("{\"id\":3}\n{\"no\":4}\n{\"id\":5}", to: log)
        let dry = try CLITests.sluice(["run", config.path, "--dry-run"])
        #expect(dry.code == 0, "\(dry.stderr)")
        #expect(dry.stdout.contains("app.ndjson: grew 18 → 44 bytes: reading from byte 18 (line 3)"), "\(dry.stdout)")
        let summaryPath = dir.appendingPathComponent("summary.json")
        let second = try Self.run(config, ["--summary", summaryPath.path])
        #expect(second.code == 0, "\(second.stderr)")
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: summaryPath)) as? [String: Any]
        #expect((summary?["files"] as? [String: Any])?["grown"] as? [String: Int] == ["app.ndjson": 18], "\(String(describing: summary))")
        #expect(second.stderr.contains("app.ndjson: grew 18 → 44 bytes: reading from byte 18 (line 3)"), "\(second.stderr)")
        #expect(second.stdout.contains("3 records in, 2 out, 0 filtered, 1 failed"), "\(second.stdout)")
        #expect(second.stderr.contains("1 file to read (26 bytes)"), "\(second.stderr)")
        #expect(second.stderr.contains("file 1/1 app.ndjson: started, 44 bytes, from byte 18 (grew)"), "\(second.stderr)")
        // The rejected record keeps its line number in the whole file.
        #expect(Self.errorLines(out).map(\.line) == [4], "\(Self.lines(out, prefix: "errors-"))")

        // The unterminated last line was a whole record: finishing it with a newline
        // (and appending more) does not read it again.
        try Self.append("\n{\"id\":6}\n", to: log)
        let third = try Self.run(config)
        #expect(third.code == 0, "\(third.stderr)")
        #expect(third.stderr.contains("reading from byte 44 (line 5)"), "\(third.stderr)")
        #expect(third.stdout.contains("1 records in, 1 out"), "\(third.stdout)")

        // Nothing new: skipped; every record is in the outputs exactly once.
        let fourth = try Self.run(config)
        #expect(fourth.stdout.contains("nothing to do (1 of 1 files skipped)"), "\(fourth.stdout)")
        let records = Self.lines(out, prefix: "t-").sorted()
        #expect(records == ["{\"id\":1}", "{\"id\":2}", "{\"id\":3}", "{\"id\":5}", "{\"id\":6}"], "\(records)")

        // The ledger holds the whole file, and a rebuild from the journal agrees: the next
        // run has nothing to read.
        try FileManager.default.removeItem(at: out.appendingPathComponent(Ledger.fileName))
        try Data().write(to: out.appendingPathComponent(Ledger.fileName))
        let rebuild = try CLITests.sluice(["ledger", "rebuild", config.path])
        #expect(rebuild.code == 0, "\(rebuild.stdout)\(rebuild.stderr)")
        let after = try CLITests.sluice(["run", config.path, "--dry-run"])
        #expect(after.stderr.contains("0 files, 0 bytes to process; 1 skipped"), "\(after.stdout)\(after.stderr)")
        // ... and says where a file that grew since would be read from.
        try Self.append("{\"id\":7}\n", to: log)
        let preview = try CLITests.sluice(["ledger", "rebuild", config.path, "--dry-run"])
        #expect(preview.stdout.contains("the next run would process 1 of 1 input files:\n  app.ndjson: grew 54 → 63 bytes: reading from byte 54 (line 7)"),
                "\(preview.stdout)\(preview.stderr)")
    }

    @Test func aLineCaughtHalfWrittenIsReadWholeOnceFinished() throws {
        let dir = TestSupport.temporaryDirectory("sluice-grow")
        defer { TestSupport.cleanup(dir) }
        let input = dir.appendingPathComponent("in")
        try FileManager.default.createDirectory(at: input, withIntermediateDirectories: true)
        let log = input.appendingPathComponent("app.ndjson")
        try TestSupport.write("{\"id\":1}\n{\"id\":", to: log)
        let config = try Self.config(dir)
        let out = dir.appendingPathComponent("out")
        let first = try Self.run(config)
        #expect(first.code == 0, "\(first.stderr)")
        // As the file stood, its last line did not parse: an error line says so.
        #expect(Self.errorLines(out).map(\.line) == [2])

        try Self.append("2}\n{\"id\":3}\n", to: log)
        let second = try Self.run(config)
        #expect(second.code == 0, "\(second.stderr)")
        #expect(second.stderr.contains("grew 15 → 27 bytes: reading from byte 9 (line 2)"), "\(second.stderr)")
        #expect(second.stdout.contains("2 records in, 2 out, 0 filtered, 0 failed"), "\(second.stdout)")
        #expect(Self.lines(out, prefix: "t-").sorted() == ["{\"id\":1}", "{\"id\":2}", "{\"id\":3}"])
    }

    @Test func appendedGzipMembersAreDecodedFromTheMemberBoundary() throws {
        let dir = TestSupport.temporaryDirectory("sluice-grow")
        defer { TestSupport.cleanup(dir) }
        let input = dir.appendingPathComponent("in")
        try FileManager.default.createDirectory(at: input, withIntermediateDirectories: true)
        let log = input.appendingPathComponent("app.ndjson.gz")
        let old = TestSupport.gzip(Array("{\"id\":1}\n{\"id\":2}\n".utf8))
        try Data(old).write(to: log)
        let config = try Self.config(dir)
        let out = dir.appendingPathComponent("out")
        #expect(try Self.run(config).code == 0)

        try Self.append(TestSupport.gzip(Array("{\"id\":3}\n{\"no\":4}\n".utf8)), to: log)
        let second = try Self.run(config)
        #expect(second.code == 0, "\(second.stderr)")
        #expect(second.stderr.contains("reading from byte \(old.count) (line 3)"), "\(second.stderr)")
        #expect(second.stdout.contains("2 records in, 1 out, 0 filtered, 1 failed"), "\(second.stdout)")
        #expect(Self.errorLines(out).map(\.line) == [4])
        #expect(Self.lines(out, prefix: "t-").sorted() == ["{\"id\":1}", "{\"id\":2}", "{\"id\":3}"])

        // A member that continues an unfinished last line: the line is read whole.
        try Self.append(TestSupport.gzip(Array("{\"id\":".utf8)), to: log)
        _ = try Self.run(config)
        try Self.append(TestSupport.gzip(Array("5}\n".utf8)), to: log)
        let fourth = try Self.run(config)
        #expect(fourth.stdout.contains("1 records in, 1 out, 0 filtered, 0 failed"), "\(fourth.stdout)\(fourth.stderr)")
        #expect(Self.lines(out, prefix: "t-").sorted() == ["{\"id\":1}", "{\"id\":2}", "{\"id\":3}", "{\"id\":5}"])

        // A whole last line without a newline, then a member of blanks only: not read twice.
        try Self.append(TestSupport.gzip(Array("{\"id\":6}".utf8)), to: log)
        _ = try Self.run(config)
        try Self.append(TestSupport.gzip(Array("  ".utf8)), to: log)
        let blanks = try Self.run(config)
        #expect(blanks.stdout.contains("0 records in"), "\(blanks.stdout)\(blanks.stderr)")
        #expect(Self.lines(out, prefix: "t-").sorted() == ["{\"id\":1}", "{\"id\":2}", "{\"id\":3}", "{\"id\":5}", "{\"id\":6}"])
    }

    @Test func aRewriteStillFollowsOnChange() throws {
        let dir = TestSupport.temporaryDirectory("sluice-grow")
        defer { TestSupport.cleanup(dir) }
        let input = dir.appendingPathComponent("in")
        try FileManager.default.createDirectory(at: input, withIntermediateDirectories: true)
        let log = input.appendingPathComponent("app.ndjson")
        let array = input.appendingPathComponent("list.json")
        try TestSupport.write("{\"id\":1}\n", to: log)
        try TestSupport.write("[{\"id\":7}]", to: array)
        let config = try Self.config(dir, include: "*", extra: ", exclude: [\"*.yaml\"]")
        #expect(try Self.run(config).code == 0)

        // The old bytes changed (and the file grew): a rewrite, read whole (on_change: reprocess).
        try TestSupport.write("{\"id\":9}\n{\"id\":2}\n", to: log)
        // A JSON array with an element more is a rewrite too: there is no "end" to read on from.
        try TestSupport.write("[{\"id\":7},{\"id\":8}]", to: array)
        let second = try Self.run(config)
        #expect(!second.stderr.contains("grew"), "\(second.stderr)")
        #expect(second.stdout.contains("4 records in, 4 out"), "\(second.stdout)")

        // on_change: skip leaves a rewritten file alone, but still reads one appended to.
        try TestSupport.write("{\"id\":0}\n{\"id\":2}\n{\"id\":3}\n", to: log)
        try TestSupport.write("[{\"id\":7},{\"id\":8},{\"id\":9}]", to: array)
        let skip = try Self.run(config, ["--set", "input.on_change=skip"])
        #expect(skip.stdout.contains("nothing to do (2 of 2 files skipped)"), "\(skip.stdout)\(skip.stderr)")
        try TestSupport.write("{\"id\":9}\n{\"id\":2}\n{\"id\":4}\n", to: log)
        let grown = try Self.run(config, ["--set", "input.on_change=skip"])
        #expect(grown.stderr.contains("app.ndjson: grew 18 → 27 bytes"), "\(grown.stderr)")
        #expect(grown.stdout.contains("1 records in, 1 out"), "\(grown.stdout)")
    }

    @Test func mirrorOutputsReadAGrownFileWhole() throws {
        let dir = TestSupport.temporaryDirectory("sluice-grow")
        defer { TestSupport.cleanup(dir) }
        let input = dir.appendingPathComponent("in")
        try FileManager.default.createDirectory(at: input, withIntermediateDirectories: true)
        let log = input.appendingPathComponent("app.ndjson")
        try TestSupport.write("{\"id\":1}\n", to: log)
        let config = try Self.config(dir)
        let out = dir.appendingPathComponent("out")
        #expect(try Self.run(config, ["--set", "output.layout=mirror"]).code == 0)
        try Self.append("{\"id\":2}\n", to: log)
        let second = try Self.run(config, ["--set", "output.layout=mirror"])
        #expect(second.code == 0, "\(second.stderr)")
        #expect(!second.stderr.contains("grew"), "\(second.stderr)")
        // The mirror output is replaced by one holding the whole file, once.
        let mirrored = String(decoding: TestSupport.read(out.appendingPathComponent("app.ndjson")), as: UTF8.self)
        #expect(mirrored == "{\"id\":1}\n{\"id\":2}\n", "\(mirrored)")
    }
}
