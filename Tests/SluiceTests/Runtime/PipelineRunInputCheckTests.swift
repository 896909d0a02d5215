import Foundation
import Testing
@testable import Sluice

/// The library checks a run's input before it touches the output directory, as the CLI
/// does (issue 16): a missing input creates no output directory, lock, ledger or summary.
@Suite struct PipelineRunInputCheckTests {
    @Test func aMissingInputCreatesNothing() throws {
        let dir = TestSupport.temporaryDirectory("sluice-input-check")
        defer { TestSupport.cleanup(dir) }
        let config = try PipelineConfig.parse(yaml: """
            name: t
            input: { path: in }
            output: { path: out }
            """)
        let missing = dir.appendingPathComponent("no-such-input")
        let out = dir.appendingPathComponent("out/deeper")
        let summary = TestSupport.run(config, input: missing, output: out)
        #expect(summary.exitCode == ExitStatus.failure)
        let failure = try #require(summary.failure)
        #expect(failure.contains("input directory '\(missing.path)' does not exist"), "\(failure)")
        #expect(failure.contains("working directory \(FileManager.default.currentDirectoryPath)"), "\(failure)")
        #expect(failure.hasSuffix("nothing was written"), "\(failure)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("out").path))

        // A FIFO as the input is refused the same way.
        let fifo = dir.appendingPathComponent("fifo")
        #expect(mkfifo(fifo.path, 0o600) == 0)
        let second = TestSupport.run(config, input: fifo, output: out)
        #expect(second.failure?.contains("is neither a directory nor a regular file") == true, "\(String(describing: second.failure))")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("out").path))
    }
}
