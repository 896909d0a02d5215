import Foundation
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// The progress line in a real terminal (a pseudo-terminal of 50 columns from script(1)):
/// every redraw fits the width and stays on its line (none is left in the scrollback), the
/// line is cleared at the end, and Ctrl-C (a ^C typed into the terminal) says that the
/// files in flight are finishing and that a second Ctrl-C aborts.
@Suite(.serialized) struct ProgressTerminalTests {
    static let script = ["/usr/bin/script", "/bin/script"].first { FileManager.default.isExecutableFile(atPath: $0) }

    @Test func progressFitsTheTerminalAndCtrlCExplainsItself() throws {
        guard let script = Self.script, let binary = CLITests.binary else {
            print("note: progress terminal test skipped: script(1) (util-linux) is not installed")
            return
        }
        let dir = TestSupport.temporaryDirectory("sluice-tty")
        defer { TestSupport.cleanup(dir) }
        let input = try CronTests.makeInput(dir)
        let config = try CronTests.makeConfig(dir, input: input)
        let marker = dir.appendingPathComponent("paused")
        let raw = dir.appendingPathComponent("terminal")
        _ = FileManager.default.createFile(atPath: raw.path, contents: nil)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        process.arguments = ["-k", "5", "60", script, "-q", "-e", "-c",
                             "stty cols 50 rows 20; exec '\(binary.path)' run '\(config.path)' --output out --progress always", "/dev/null"]
        process.currentDirectoryURL = dir
        var environment = ProcessInfo.processInfo.environment
        environment["SWIFT_BACKTRACE"] = "enable=no"
        environment["SLUICE_TEST_PAUSE_AT"] = "after-file"
        environment["SLUICE_TEST_PAUSE_FILE"] = marker.path
        process.environment = environment
        let keyboard = Pipe()
        process.standardInput = keyboard
        process.standardOutput = try FileHandle(forWritingTo: raw)
        process.standardError = FileHandle.nullDevice
        try process.run()

        func screen() -> String { String(decoding: TestSupport.read(raw), as: UTF8.self) }
        #expect(CronTests.waitFor(marker))
        // Paused after the first file: the progress line keeps being redrawn meanwhile.
        let deadline = Date().addingTimeInterval(30)
        while screen().components(separatedBy: "rec/s").count < 4 && Date() < deadline { usleep(20_000) }
        keyboard.fileHandleForWriting.write(Data([0x03]))   // Ctrl-C
        while process.isRunning && Date() < deadline.addingTimeInterval(30) { usleep(20_000) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        #expect(process.terminationStatus == 130)

        let text = screen()
        let redraws = text.components(separatedBy: "\r\u{1B}[K")
        let progress = redraws.filter { $0.contains("rec/s") }.map { $0.replacingOccurrences(of: "^C", with: "") }
        #expect(progress.count >= 3, "\(text.debugDescription)")
        for line in progress {
            #expect(line.count < 50 && !line.contains("\n"), "each redraw fits 50 columns on its own line: \(line.debugDescription)")
        }
        #expect(text.contains("the files in flight are finishing"), "\(text.debugDescription)")
        #expect(text.contains("Ctrl-C again stops them now"), "\(text.debugDescription)")
        #expect(redraws.last?.contains("rec/s") == false, "the line is cleared at the end")
    }
}
