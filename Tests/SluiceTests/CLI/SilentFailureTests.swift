import Foundation
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// Issue 16, "nothing silent": the real binary, as cron runs it (stdout and stderr are
/// files, not a terminal), on the everyday traps — a lost ledger, a file that changes
/// under the reader, a failed file, a glob that matches nothing, a missing input
/// directory, a lock left by another user.
@Suite(.serialized) struct SilentFailureTests {
    typealias Child = CronTests.Child

    /// Three good NDJSON files and a truncated gzip one.
    static func makeInput(_ dir: URL) throws -> URL {
        let input = dir.appendingPathComponent("in")
        for f in 0..<3 {
            try TestSupport.write("{\"id\":\(f)}\n{\"id\":\(f + 10)}\n", to: input.appendingPathComponent("f\(f).ndjson"))
        }
        let gz = TestSupport.gzip(Array("{\"id\":99}\n".utf8))
        try Data(gz.prefix(gz.count - 6)).write(to: input.appendingPathComponent("cut.ndjson.gz"))
        return input
    }

    static func config(_ dir: URL, input: URL, output: URL, extra: String = "") throws -> URL {
        let url = dir.appendingPathComponent("c.yaml")
        try TestSupport.write("name: t\ninput: { path: \(input.path)\(extra) }\noutput: { path: \(output.path) }\n", to: url)
        return url
    }

    static func outputRecords(_ out: URL) -> [String] { CronTests.committed(out).records }

    // MARK: Ledger

    @Test func emptyLedgerBesideCommittedOutputsIsRefusedThenRebuilt() throws {
        let dir = TestSupport.temporaryDirectory("sluice-silent")
        defer { TestSupport.cleanup(dir) }
        let out = dir.appendingPathComponent("out")
        let config = try Self.config(dir, input: try Self.makeInput(dir), output: out)
        #expect(try Child(["run", config.path], in: dir).wait() == 3)
        let clean = Self.outputRecords(out)
        #expect(clean.count == 6)
        let ledger = out.appendingPathComponent(Ledger.fileName)
        #expect(try Ledger(directory: out.path).database.scalar("PRAGMA user_version") == Ledger.schemaVersion)

        try Data().write(to: ledger)   // a bad restore, a full disk
        let refused = try Child(["run", config.path], in: dir)
        #expect(refused.wait() == 5)
        #expect(refused.errorText.contains("refusing to use the ledger") && refused.errorText.contains("0 bytes"), "\(refused.errorText)")
        #expect(refused.errorText.contains("sluice ledger rebuild"))
        #expect(Self.outputRecords(out) == clean, "nothing reprocessed")
        #expect(TestSupport.read(ledger).isEmpty, "the ledger is left as it was")
        let dry = try Child(["run", config.path, "--dry-run"], in: dir)
        #expect(dry.wait() == 5)

        let preview = try Child(["ledger", "rebuild", config.path, "--dry-run"], in: dir)
        #expect(preview.wait() == 0, "\(preview.errorText)")
        #expect(preview.outputText.contains("would restore 3 done files"), "\(preview.outputText)")
        #expect(preview.outputText.contains("process 1 of 4 input files:\n  cut.ndjson.gz"), "\(preview.outputText)")
        #expect(TestSupport.read(ledger).isEmpty, "a dry run changes nothing")

        let rebuild = try Child(["ledger", "rebuild", config.path], in: dir)
        #expect(rebuild.wait() == 0, "\(rebuild.errorText)")
        #expect(rebuild.outputText.contains("restored 3 done files from 1 run"))
        let names = try FileManager.default.contentsOfDirectory(atPath: out.path)
        #expect(names.contains { $0.hasPrefix(Ledger.fileName + ".broken-") }, "the old file is kept")
        let check = try Child(["ledger", "check", config.path], in: dir)
        #expect(check.wait() == 0)
        let rerun = try Child(["run", config.path], in: dir)
        #expect(rerun.wait() == 3, "only the broken file is retried: \(rerun.errorText)")
        #expect(Self.outputRecords(out) == clean, "no record twice")
    }

    @Test func corruptOrNewerLedgerIsRefused() throws {
        let dir = TestSupport.temporaryDirectory("sluice-silent")
        defer { TestSupport.cleanup(dir) }
        let out = dir.appendingPathComponent("out")
        let config = try Self.config(dir, input: try Self.makeInput(dir), output: out)
        #expect(try Child(["run", config.path], in: dir).wait() == 3)
        let ledger = out.appendingPathComponent(Ledger.fileName)
        let good = TestSupport.read(ledger)

        try Ledger(directory: out.path).database.execute("PRAGMA user_version = 99")
        let newer = try Child(["run", config.path], in: dir)
        #expect(newer.wait() == 5)
        #expect(newer.errorText.contains("schema version 99"), "\(newer.errorText)")
        let check = try Child(["ledger", "check", config.path], in: dir)
        #expect(check.wait() == 5)

        var garbage = good
        for i in stride(from: 100, to: min(garbage.count, 4000), by: 7) { garbage[i] ^= 0x5A }
        try Data(garbage).write(to: ledger)
        let corrupt = try Child(["run", config.path], in: dir)
        #expect(corrupt.wait() == 5)
        #expect(corrupt.errorText.contains("refusing to use the ledger"), "\(corrupt.errorText)")
        try Data("this is not a database, it is text from a bad restore\n".utf8).write(to: ledger)
        let text = try Child(["run", config.path], in: dir)
        #expect(text.wait() == 5)
        #expect(Self.outputRecords(out).count == 6)
    }

    // MARK: A file that changes under the reader

    @Test func fileRewrittenWhileReadFailsAndIsRetried() throws {
        let dir = TestSupport.temporaryDirectory("sluice-silent")
        defer { TestSupport.cleanup(dir) }
        let input = dir.appendingPathComponent("in")
        let file = input.appendingPathComponent("log.ndjson")
        try TestSupport.write((0..<50).map { "{\"id\":\($0)}\n" }.joined(), to: file)
        let out = dir.appendingPathComponent("out")
        let config = try Self.config(dir, input: input, output: out)
        let marker = dir.appendingPathComponent("paused")
        let release = dir.appendingPathComponent("go")
        let child = try Child(["run", config.path], in: dir, environment: [
            "SLUICE_TEST_PAUSE_AT": "after-read", "SLUICE_TEST_PAUSE_FILE": marker.path, "SLUICE_TEST_RELEASE_FILE": release.path])
        #expect(CronTests.waitFor(marker))
        // Rewritten shorter while the reader had it: what it read is torn.
        try TestSupport.write((100..<110).map { "{\"id\":\($0)}\n" }.joined(), to: file)
        _ = FileManager.default.createFile(atPath: release.path, contents: nil)
        #expect(child.wait() == 3)
        #expect(child.errorText.contains("log.ndjson: failed (io): the file changed while it was being read"), "\(child.errorText)")
        #expect(child.errorText.contains("50 records withheld"), "\(child.errorText)")
        #expect(Self.outputRecords(out).isEmpty)

        let next = try Child(["run", config.path], in: dir)
        #expect(next.wait() == 0, "\(next.errorText)")
        #expect(Self.outputRecords(out) == (100..<110).map { "{\"id\":\($0)}" }.sorted())
    }

    // MARK: Loud where cron looks

    @Test func everyFailedFileIsNamedOnStderrOnEveryRun() throws {
        let dir = TestSupport.temporaryDirectory("sluice-silent")
        defer { TestSupport.cleanup(dir) }
        let out = dir.appendingPathComponent("out")
        let config = try Self.config(dir, input: try Self.makeInput(dir), output: out)
        for _ in 0..<2 {
            let run = try Child(["run", config.path], in: dir)
            #expect(run.wait() == 3, "exit 3: committed, but a file failed")
            #expect(run.outputText.isEmpty)
            let lines = run.errorText.split(separator: "\n").filter { $0.contains("cut.ndjson.gz") }
            #expect(lines.count == 1, "\(run.errorText)")
            #expect(lines.first?.contains("failed (io): gzip stream is truncated") == true)
            #expect(lines.first?.contains("withheld, retried next run") == true)
        }
        let lenient = try Child(["run", config.path, "--failed-files-exit", "0"], in: dir)
        #expect(lenient.wait() == 0)
        #expect(lenient.errorText.contains("cut.ndjson.gz: failed (io)"), "still named: \(lenient.errorText)")
    }

    @Test func includeThatMatchesNothingWarns() throws {
        let dir = TestSupport.temporaryDirectory("sluice-silent")
        defer { TestSupport.cleanup(dir) }
        let out = dir.appendingPathComponent("out")
        let config = try Self.config(dir, input: try Self.makeInput(dir), output: out, extra: ", include: [\"**/*.ndjsn\"]")
        let run = try Child(["run", config.path], in: dir)
        #expect(run.wait() == 0)
        #expect(run.errorText.contains("warning: input.include [\"**/*.ndjsn\"] matches none of the 4 files under"), "\(run.errorText)")
        let validate = try Child(["validate", config.path], in: dir)
        #expect(validate.wait() == 0)
        #expect(validate.errorText.contains("matches none of the 4 files"), "\(validate.errorText)")
        let dry = try Child(["run", config.path, "--dry-run"], in: dir)
        #expect(dry.wait() == 0)
        #expect(dry.errorText.contains("matches none"))
    }

    @Test func missingInputDirectoryWritesNothingAndNamesThePaths() throws {
        let dir = TestSupport.temporaryDirectory("sluice-silent")
        defer { TestSupport.cleanup(dir) }
        let config = dir.appendingPathComponent("c.yaml")
        try TestSupport.write("name: t\ninput: { path: nowhere }\noutput: { path: out }\n", to: config)
        let cwd = dir.appendingPathComponent("cwd")
        try FileManager.default.createDirectory(at: cwd, withIntermediateDirectories: true)
        let run = try Child(["run", config.path], in: dir, currentDirectory: cwd)
        #expect(run.wait() == 1)
        let resolved = dir.appendingPathComponent("nowhere").standardizedFileURL.path
        #expect(run.errorText.contains("input directory \(resolved) does not exist"), "\(run.errorText)")
        #expect(run.errorText.contains("working directory \(cwd.path)"), "\(run.errorText)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("out").path))
        #expect(!FileManager.default.fileExists(atPath: cwd.appendingPathComponent("out").path))
        #expect(try FileManager.default.contentsOfDirectory(atPath: cwd.path).filter { !$0.hasPrefix("std") }.isEmpty)
    }

    // MARK: Symlinks

    @Test func linksLeavingTheInputTreeAreNotRead() throws {
        let dir = TestSupport.temporaryDirectory("sluice-silent")
        defer { TestSupport.cleanup(dir) }
        let input = dir.appendingPathComponent("in")
        try TestSupport.write("{\"id\":1}\n{\"id\":2}\n", to: input.appendingPathComponent("a.ndjson"))
        try FileManager.default.createSymbolicLink(atPath: input.appendingPathComponent("leak.ndjson").path, withDestinationPath: "/etc/passwd")
        try FileManager.default.createSymbolicLink(atPath: input.appendingPathComponent("same.ndjson").path, withDestinationPath: "a.ndjson")
        let config = try Self.config(dir, input: input, output: dir.appendingPathComponent("unused"))
        func run(_ policy: String?) throws -> (code: Int32, stderr: String, out: URL) {
            let out = dir.appendingPathComponent("out-\(policy ?? "default")")
            let child = try Child(["run", config.path, "--output", out.path] + (policy.map { ["--set", "input.follow_symlinks=\($0)"] } ?? []), in: dir)
            return (child.wait(), child.errorText, out)
        }
        func errorReport(_ out: URL) -> String {
            CronTests.committed(out).errors.joined(separator: "\n")
        }
        let within = try run(nil)
        #expect(within.code == 3)
        let lines = within.stderr.split(separator: "\n")
        #expect(lines.filter { $0.contains("leak.ndjson: failed (io): symbolic link leads outside the input directory") }.count == 1, "\(within.stderr)")
        #expect(!within.stderr.contains("same.ndjson"), "a link inside the tree is followed")
        #expect(Self.outputRecords(within.out).count == 4)
        #expect(!errorReport(within.out).contains("root:"), "nothing of /etc/passwd in the error report")

        let never = try run("never")
        #expect(never.code == 3)
        #expect(never.stderr.contains("same.ndjson: failed (io): symbolic link (→ a.ndjson) not followed"), "\(never.stderr)")
        #expect(Self.outputRecords(never.out).count == 2)

        let always = try run("always")
        #expect(errorReport(always.out).contains("root:"), "always follows the link: \(always.stderr)")
    }

    // MARK: Lock

    /// Runs as `nobody` (setpriv), when this process is root.
    static var asNobody: [String]? {
        getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")
            ? ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] : nil
    }

    @Test func anotherUsersLockIsExitFourAndTakenOverOnceGone() throws {
        guard let nobody = Self.asNobody else {
            print("note: lock ownership test skipped: needs root and setpriv to run sluice as another user")
            return
        }
        let dir = TestSupport.temporaryDirectory("sluice-silent")
        defer { TestSupport.cleanup(dir) }
        try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: dir.path)
        let input = try Self.makeInput(dir)
        try FileManager.default.removeItem(at: input.appendingPathComponent("cut.ndjson.gz"))
        let out = dir.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: out.path)
        let config = try Self.config(dir, input: input, output: out)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: config.path)

        // A shared directory (umask 000 here): root's run leaves files another user may use.
        let shell = ["/bin/sh", "-c", "umask 000; exec \"$@\"", "sh"]
        let first = try Child(["run", config.path], in: dir, launcher: shell)
        #expect(first.wait() == 0, "\(first.errorText)")
        try TestSupport.write("{\"id\":7}\n", to: input.appendingPathComponent("g.ndjson"))
        let takeOver = try Child(["run", config.path], in: dir, launcher: nobody)
        #expect(takeOver.wait() == 0, "another user takes over once the holder has gone: \(takeOver.errorText)")

        // nobody holds the lock; root is told whose it is.
        try TestSupport.write("{\"id\":8}\n", to: input.appendingPathComponent("h.ndjson"))
        let marker = dir.appendingPathComponent("paused")
        let holder = try Child(["run", config.path], in: dir,
                               environment: ["SLUICE_TEST_PAUSE_AT": "after-file", "SLUICE_TEST_PAUSE_FILE": marker.path],
                               launcher: nobody)
        #expect(CronTests.waitFor(marker))
        let second = try Child(["run", config.path], in: dir)
        #expect(second.wait() == 4)
        #expect(second.errorText.contains("of user nobody"), "\(second.errorText)")
        kill(holder.process.processIdentifier, SIGTERM)
        _ = holder.wait()
    }
}
