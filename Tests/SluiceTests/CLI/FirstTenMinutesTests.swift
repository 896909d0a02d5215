import Foundation
import Testing
@testable import Sluice

/// README "First ten minutes" (issue 15): runs exactly the shell block between the
/// `first-ten-minutes` markers, with `sluice` the binary `swift test` built, in a fresh
/// directory; then the cron line it ends with, as cron would (no terminal).
@Suite(.serialized) struct FirstTenMinutesTests {
    struct Shell {
        var code: Int32
        var stdout: String
        var stderr: String
    }

    /// The README's block, verbatim.
    static func block() throws -> String {
        let readme = String(decoding: TestSupport.read(TestSupport.packageRoot.appendingPathComponent("README.md")), as: UTF8.self)
        let start = try #require(readme.range(of: "<!-- first-ten-minutes -->\n```sh\n"), "README has no first-ten-minutes block")
        let end = try #require(readme.range(of: "```\n<!-- /first-ten-minutes -->", range: start.upperBound..<readme.endIndex))
        return String(readme[start.upperBound..<end.lowerBound])
    }

    /// Runs `script` with bash in `directory`, `sluice` first on the PATH, stdin
    /// /dev/null, a timeout on the child.
    static func bash(_ script: String, in directory: URL, timeout: Int = 180) throws -> Shell {
        let binary = try #require(CLITests.binary, "the sluice binary is not built")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        process.arguments = ["-k", "5", String(timeout), "/bin/bash", "-eu", "-c", script]
        process.currentDirectoryURL = directory
        var environment = ProcessInfo.processInfo.environment
        environment["SWIFT_BACKTRACE"] = "enable=no"
        environment["PATH"] = binary.deletingLastPathComponent().path + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        try process.run()
        // stderr on another thread: a full pipe must not deadlock against stdout.
        let stderrData = LockedBox(Data())
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            let data = err.fileHandleForReading.readDataToEndOfFile()
            stderrData.withLock { $0 = data }
            done.signal()
        }
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        done.wait()
        return Shell(code: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                     stderr: String(decoding: stderrData.withLock { $0 }, as: UTF8.self))
    }

    @Test func theReadmeBlockRunsAsWritten() throws {
        let dir = TestSupport.temporaryDirectory("sluice-first-ten")
        defer { TestSupport.cleanup(dir) }
        let script = try Self.block()
        // The commands the section promises, and no others but the shell's own.
        for command in ["sluice init", "sluice validate", "sluice help", "sluice eval", "sluice run", "sluice test"] {
            #expect(script.contains(command), "the block lacks \(command)")
        }
        let shell = try Self.bash(script, in: dir)
        #expect(shell.code == 0, "exit \(shell.code)\n\(shell.stdout)\n\(shell.stderr)")
        let out = shell.stdout
        #expect(out.contains("wrote orders.yaml"), "\(out)")
        #expect(out.contains("orders.yaml: ok"), "\(out)")
        #expect(out.contains("\ntrue\n"), "eval: \(out)")
        #expect(out.contains("3 records in, 3 out, 0 filtered, 0 failed, 0 discarded (0 files failed)"), "\(out)")
        #expect(out.contains("{\"id\":2,\"status\":\"cancelled\""), "zcat of the output: \(out)")
        #expect(out.contains("nothing to do (1 of 1 files skipped)"), "\(out)")
        #expect(out.contains("1 passed, 0 failed"), "\(out)")
        // Clean data: no error report was written (one appears only when a record is rejected).
        let try_ = dir.appendingPathComponent("try")
        let names = try FileManager.default.contentsOfDirectory(atPath: try_.appendingPathComponent("out").path)
        #expect(!names.contains { $0.hasPrefix("errors-") }, "\(names)")

        // The cron line, as cron runs it: from elsewhere, no terminal; a new file arrives.
        let cronLine = try #require(script.split(separator: "\n").first { $0.contains("*/10 * * * *") })
        let command = try #require(cronLine.range(of: "cd /path/to/try")).lowerBound
        let cron = String(cronLine[command...]).replacingOccurrences(of: "/path/to/try", with: try_.path)
        try TestSupport.write("{\"id\":4,\"status\":\"paid\",\"total\":8,\"customer\":{\"id\":9,\"country\":\"NL\"}}\n",
                              to: try_.appendingPathComponent("data/orders-2.ndjson"))
        let quiet = try Self.bash(cron, in: FileManager.default.temporaryDirectory)
        #expect(quiet.code == 0, "\(cron)\n\(quiet.stderr)")
        #expect(quiet.stdout.isEmpty && quiet.stderr.isEmpty, "cron mails any output: \(quiet.stdout)\(quiet.stderr)")
        let outputs = try FileManager.default.contentsOfDirectory(atPath: try_.appendingPathComponent("out").path)
        #expect(outputs.filter { $0.hasPrefix("data-") && $0.hasSuffix(".ndjson.gz") }.count == 2, "\(outputs)")
    }
}
