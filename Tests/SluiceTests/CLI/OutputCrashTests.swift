import Foundation
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// Process tests of the output layouts under crashes: `kill -9` while a run that
/// replaces mirror outputs is halfway through its renames, then a rerun.
@Suite(.serialized) struct OutputCrashTests {
    typealias Child = CronTests.Child

    static func mirrorTree(_ out: URL) -> [String: String] {
        var tree: [String: String] = [:]
        for name in ["a.json", "sub/b.json", "c.json"] {
            tree[name] = String(decoding: TestSupport.read(out.appendingPathComponent(name)), as: UTF8.self)
        }
        return tree
    }

    /// Run 1 writes a.json, sub/b.json and c.json; the inputs change; run 2 is killed
    /// after renaming its first output (a.json replaced, the others not). The rerun
    /// finishes run 2's renames from its fsynced temporary files: every output then holds
    /// the new records, none the old, and the ledger names run 2 for every file.
    @Test(arguments: ["before-rename", "between-renames", "after-rename"])
    func killNineDuringMirrorRenamesThenRerun(point: String) throws {
        let dir = TestSupport.temporaryDirectory("sluice-crash")
        defer { TestSupport.cleanup(dir) }
        let input = dir.appendingPathComponent("in")
        let out = dir.appendingPathComponent("out")
        let config = dir.appendingPathComponent("p.yaml")
        try TestSupport.write("""
            name: m
            input: { path: \(input.path) }
            output: { path: \(out.path), layout: mirror, format: json }
            """, to: config)
        func writeInputs(_ version: Int) throws {
            for name in ["a", "sub/b", "c"] {
                try TestSupport.write("{\"name\":\"\(name)\",\"v\":\(version)}\n", to: input.appendingPathComponent("\(name).ndjson"))
            }
        }
        try writeInputs(1)
        #expect(try Child(["run", config.path], in: dir).wait() == 0)
        #expect(Self.mirrorTree(out)["sub/b.json"] == "[{\"name\":\"sub/b\",\"v\":1}]\n")

        try writeInputs(22)    // a different size: the ledger sees a change without reading
        let marker = dir.appendingPathComponent("paused")
        let run = try Child(["run", config.path], in: dir,
                            environment: ["SLUICE_TEST_PAUSE_AT": point, "SLUICE_TEST_PAUSE_FILE": marker.path])
        #expect(CronTests.waitFor(marker), "never reached \(point)")
        kill(run.process.processIdentifier, SIGKILL)
        _ = run.wait()

        let rerun = try Child(["run", config.path, "--verbose"], in: dir)
        #expect(rerun.wait() == 0, "\(rerun.errorText)")
        #expect(rerun.outputText.contains("nothing to do"), "\(rerun.outputText)")
        #expect(Ledger.temporaryFiles(under: out.path).isEmpty)
        for (name, text) in Self.mirrorTree(out) {
            let base = String(name.dropLast(5))
            #expect(text == "[{\"name\":\"\(base)\",\"v\":22}]\n", "\(name) after kill -9 at \(point)")
        }
    }

    /// A `--full` rerun is killed after replacing its first mirror output, and its error
    /// report's temporary file is then lost (deleted by hand), so the next run must roll it
    /// back. The rollback keeps every mirror output a done file names (run 1's, or run 2's
    /// equal replacement) instead of deleting them while the ledger still says done.
    @Test func rollbackOfAKilledMirrorRerunKeepsTheCommittedRecords() throws {
        let dir = TestSupport.temporaryDirectory("sluice-crash")
        defer { TestSupport.cleanup(dir) }
        let input = dir.appendingPathComponent("in")
        let out = dir.appendingPathComponent("out")
        let config = dir.appendingPathComponent("p.yaml")
        try TestSupport.write("""
            name: m
            input: { path: \(input.path) }
            output: { path: \(out.path), layout: mirror, format: json }
            """, to: config)
        for name in ["a", "sub/b", "c"] {
            try TestSupport.write("{\"name\":\"\(name)\"}\n", to: input.appendingPathComponent("\(name).ndjson"))
        }
        #expect(try Child(["run", config.path], in: dir).wait() == 0)
        let committed = Self.mirrorTree(out)

        let marker = dir.appendingPathComponent("paused")
        let run = try Child(["run", config.path, "--full"], in: dir,
                            environment: ["SLUICE_TEST_PAUSE_AT": "between-renames", "SLUICE_TEST_PAUSE_FILE": marker.path])
        #expect(CronTests.waitFor(marker), "never reached between-renames")
        kill(run.process.processIdentifier, SIGKILL)
        _ = run.wait()
        let lost = Ledger.temporaryFiles(under: out.path).filter { URL(fileURLWithPath: $0).lastPathComponent.hasPrefix(".errors-") }
        #expect(lost.count == 1, "\(lost)")
        for path in lost { unlink(path) }

        let rerun = try Child(["run", config.path, "--verbose"], in: dir)
        #expect(rerun.wait() == 0, "\(rerun.errorText)")
        #expect(rerun.outputText.contains("nothing to do"), "\(rerun.outputText)")
        #expect(Ledger.temporaryFiles(under: out.path).isEmpty)
        #expect(Self.mirrorTree(out) == committed)
        #expect(committed["sub/b.json"] == "[{\"name\":\"sub/b\"}]\n")
    }

    /// The real binary with a layout, a format and a rotation set from the command line.
    @Test func binaryRunWithPartitionedCSVOutput() throws {
        let out = TestSupport.temporaryDirectory("sluice-cli-layout")
        defer { TestSupport.cleanup(out) }
        let result = try CLITests.sluice([
            "run", "pipelines/orders.yaml", "--output", out.path, "--verbose",
            "--set", "output.layout=partitioned", "--set", "output.partition_by=[item_count]",
            "--set", "output.format=csv", "--set", "output.columns=[id, customer_id, total_cents]",
            "--set", "output.compression=none"])
        #expect(result.code == 0, "committed; the fixture's broken file failed (failed_files_exit: 0): \(result.stderr)")
        let names = try FileManager.default.contentsOfDirectory(atPath: out.path).filter { $0.hasPrefix("item_count=") }.sorted()
        #expect(names.count >= 2, "\(names)")
        var rows = 0
        for name in names {
            let files = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent(name).path)
            #expect(files.count == 1 && files[0].hasSuffix(".csv"))
            let text = String(decoding: TestSupport.read(out.appendingPathComponent(name).appendingPathComponent(files[0])), as: UTF8.self)
            #expect(text.hasPrefix("id,customer_id,total_cents\r\n"))
            rows += text.components(separatedBy: "\r\n").count - 2
        }
        let expected = String(decoding: TestSupport.read(TestSupport.fixture("expected/orders/output.ndjson")), as: UTF8.self)
        #expect(rows == expected.split(separator: "\n").count)
    }
}
