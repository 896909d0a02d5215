import Foundation
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// `sluice run CONFIG --input FILE` and `--input -`, through the real binary.
@Suite(.serialized) struct OneOffInputTests {
    /// Runs the binary with `stdin` piped in (nil: /dev/null), a timeout on the child.
    static func sluice(_ arguments: [String], stdin: [UInt8]?, timeout: Int = 60) throws -> CLITests.Outcome {
        try CLITests.sluice(arguments, timeout: TimeInterval(timeout), stdin: stdin)
    }

    static let records = "{\"id\":1,\"v\":1}\n{\"id\":2}\n{\"id\":3,\"v\":3}\n"

    static func config(_ dir: URL, input: String = "unused-input") throws -> URL {
        let config = dir.appendingPathComponent("p.yaml")
        try TestSupport.write("""
            name: t
            input: { path: \(input), include: ["**/*.never"] }
            stages:
              - validate: { required: [id, v] }
            output: { path: \(dir.appendingPathComponent("out").path) }
            """, to: config)
        return config
    }

    static func lines(_ out: URL, prefix: String) -> [String] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: out.path)) ?? []).sorted()
        return names.filter { $0.hasPrefix(prefix) && $0.hasSuffix(".ndjson") }.flatMap { name in
            String(decoding: TestSupport.read(out.appendingPathComponent(name)), as: UTF8.self).split(separator: "\n").map(String.init)
        }
    }

    static func errorFiles(_ lines: [String]) -> [String] {
        lines.compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["file"] as? String
        }
    }

    @Test func singleGzipFileIsReadAloneAndTheLedgerStillApplies() throws {
        let dir = TestSupport.temporaryDirectory("sluice-oneoff")
        defer { TestSupport.cleanup(dir) }
        let file = dir.appendingPathComponent("day.ndjson.gz")
        try Data(TestSupport.gzip(Array(Self.records.utf8))).write(to: file)
        let config = try Self.config(dir)
        let out = dir.appendingPathComponent("out")

        // include: ["**/*.never"] would keep nothing from a directory: a named file is read anyway.
        let first = try Self.sluice(["run", config.path, "--input", file.path, "--verbose"], stdin: nil)
        #expect(first.code == 0, "\(first.stderr)")
        #expect(first.stdout.contains("3 records in, 2 out"), "\(first.stdout)")
        // --verbose: the files to read, then one line per file with its records and time.
        #expect(first.stderr.contains("1 file to read ("), "\(first.stderr)")
        #expect(first.stderr.contains("file 1/1 day.ndjson.gz: done, 3 records in, 2 out, 0 filtered, 1 failed; "), "\(first.stderr)")
        #expect(Self.lines(out, prefix: "t-").count == 2)
        let errors = Self.lines(out, prefix: "errors-")
        #expect(Self.errorFiles(errors) == ["day.ndjson.gz"], "\(errors)")

        // The ledger keys the file by its name: unchanged, it is skipped; --full reads it again.
        let second = try Self.sluice(["run", config.path, "--input", file.path, "--verbose"], stdin: nil)
        #expect(second.code == 0, "\(second.stderr)")
        #expect(second.stdout.contains("nothing to do (1 of 1 files skipped)"), "\(second.stdout)")
        let full = try Self.sluice(["run", config.path, "--input", file.path, "--full"], stdin: nil)
        #expect(full.code == 0, "\(full.stderr)")
        #expect(Self.lines(out, prefix: "t-").count == 4)

        // input.path may name a file too; validate accepts it.
        let named = try Self.config(dir, input: file.path)
        let validate = try Self.sluice(["validate", named.path], stdin: nil)
        #expect(validate.code == 0, "\(validate.stdout)\(validate.stderr)")
        let dry = try Self.sluice(["run", named.path, "--dry-run", "--full"], stdin: nil)
        #expect(dry.code == 0, "\(dry.stderr)")
        #expect(dry.stdout.contains("\tday.ndjson.gz"), "\(dry.stdout)")

        // A mirror output is named after the file, inside the output directory.
        let mirror = try Self.sluice(["run", config.path, "--input", file.path, "--output", dir.appendingPathComponent("mirror").path,
                                      "--set", "output.layout=mirror"], stdin: nil)
        #expect(mirror.code == 0, "\(mirror.stderr)")
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("mirror/day.ndjson").path))
    }

    @Test func standardInputPlainAndGzipWithTheSameErrorReportAndNoSkipping() throws {
        let dir = TestSupport.temporaryDirectory("sluice-oneoff")
        defer { TestSupport.cleanup(dir) }
        let config = try Self.config(dir)
        let out = dir.appendingPathComponent("out")

        let plain = try Self.sluice(["run", config.path, "--input", "-", "--format", "ndjson", "--verbose"], stdin: Array(Self.records.utf8))
        #expect(plain.code == 0, "\(plain.stderr)")
        #expect(plain.stdout.contains("3 records in, 2 out"), "\(plain.stdout)")
        #expect(Self.errorFiles(Self.lines(out, prefix: "errors-")) == ["-"])
        #expect(Self.lines(out, prefix: "t-").sorted() == ["{\"id\":1,\"v\":1}", "{\"id\":3,\"v\":3}"])

        // The same bytes again, gzip-compressed and without --format (auto: by the first
        // byte): processed again, never skipped as done.
        let gz = try Self.sluice(["run", config.path, "--input", "-", "--verbose"], stdin: TestSupport.gzip(Array(Self.records.utf8)))
        #expect(gz.code == 0, "\(gz.stderr)")
        #expect(gz.stdout.contains("3 records in, 2 out"), "\(gz.stdout)")
        #expect(Self.lines(out, prefix: "t-").count == 4)
        #expect(Self.errorFiles(Self.lines(out, prefix: "errors-")) == ["-", "-"])

        // A JSON array on stdin, by input.format.
        let array = try Self.sluice(["run", config.path, "--input", "-", "--set", "input.format=json", "--verbose"],
                                    stdin: Array("[{\"id\":9,\"v\":9}]".utf8))
        #expect(array.code == 0, "\(array.stderr)")
        #expect(array.stdout.contains("1 records in, 1 out"), "\(array.stdout)")

        // input.path: - in the config file is stdin too (not a file beside the config).
        let dash = try Self.config(dir, input: "'-'")
        let fromConfig = try Self.sluice(["run", dash.path, "--verbose"], stdin: Array(Self.records.utf8))
        #expect(fromConfig.code == 0, "\(fromConfig.stderr)")
        #expect(fromConfig.stdout.contains("3 records in, 2 out"), "\(fromConfig.stdout)")
        #expect(try Self.sluice(["validate", dash.path], stdin: nil).code == 0)

        // Stdin redirected from a file works too, and the copy does not outlive the run.
        let tmp = dir.appendingPathComponent("tmp")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        let env = try Self.sluiceEnv(["run", config.path, "--input", "-"], stdin: Array(Self.records.utf8), tmpdir: tmp.path)
        #expect(env.code == 0, "\(env.stderr)")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: tmp.path)) ?? ["?"]).isEmpty)
    }

    @Test func brokenStandardInputFailsAsAFileNamedDash() throws {
        let dir = TestSupport.temporaryDirectory("sluice-oneoff")
        defer { TestSupport.cleanup(dir) }
        let config = try Self.config(dir)
        var truncated = TestSupport.gzip(Array(String(repeating: Self.records, count: 50).utf8))
        truncated.removeLast(20)
        let result = try Self.sluice(["run", config.path, "--input", "-", "--format", "ndjson"], stdin: truncated)
        #expect(result.code == 3, "\(result.stderr)")
        #expect(result.stderr.contains("sluice: -: failed (io)"), "\(result.stderr)")
        let verbose = try Self.sluice(["run", config.path, "--input", "-", "--verbose"], stdin: truncated)
        #expect(verbose.stderr.contains("file 1/1 -: failed (io): "), "\(verbose.stderr)")
    }

    @Test func usageErrors() throws {
        let dir = TestSupport.temporaryDirectory("sluice-oneoff")
        defer { TestSupport.cleanup(dir) }
        let config = try Self.config(dir)
        let format = try Self.sluice(["run", config.path, "--input", "-", "--format", "csv"], stdin: [])
        #expect(format.code == 2)
        #expect(format.stderr.contains("--format: expected one of auto, ndjson, json, xml, got 'csv'"), "\(format.stderr)")
        let shard = try Self.sluice(["run", config.path, "--input", "-", "--shard", "0/2"], stdin: [])
        #expect(shard.code == 2)
        #expect(shard.stderr.contains("--shard cannot split standard input"), "\(shard.stderr)")
        let pipe = dir.appendingPathComponent("pipe").path
        #expect(mkfifo(pipe, 0o600) == 0)
        let fifo = try Self.sluice(["run", config.path, "--input", pipe], stdin: nil)
        #expect(fifo.code == 1)
        #expect(fifo.stderr.contains("\(pipe) is neither a directory nor a regular file"), "\(fifo.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("out").path))
    }

    /// `sluice` with a TMPDIR of its own.
    static func sluiceEnv(_ arguments: [String], stdin: [UInt8], tmpdir: String) throws -> CLITests.Outcome {
        try CLITests.sluice(arguments, environment: ["TMPDIR": tmpdir], stdin: stdin)
    }
}
