import Foundation
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// Groups the tests of `Sources/Sluice/Codecs` (`swift test --filter CodecsTests`).
@Suite enum CodecsTests {}

/// The real compression tools, which make the fixtures at test time. A test that needs a
/// missing one is skipped, and Swift Testing prints the reason.
enum CodecTools {
    static func path(_ name: String) -> String? {
        ["/usr/bin/", "/bin/", "/usr/local/bin/"].map { $0 + name }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static func has(_ name: String) -> Bool { path(name) != nil }

    /// Runs `script` with /bin/sh in `directory` (a timeout kills it); returns its status.
    @discardableResult
    static func shell(_ script: String, in directory: String, timeout: Int = 60) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        process.arguments = ["-k", "5", String(timeout), "/bin/sh", "-c", script]
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// `text` compressed by the tool's command line (`zstd -q -c`), through a pipe so
    /// that the tool does not know the size (as for data streamed into a file).
    static func compress(_ text: [UInt8], with command: String, in dir: TempDir) throws -> [UInt8] {
        let input = dir.path + "/tool-input-\(UUID().uuidString)"
        let output = input + ".out"
        try Data(text).write(to: URL(fileURLWithPath: input))
        let status = try shell("\(command) < '\(input)' > '\(output)'", in: dir.path)
        #expect(status == 0, "\(command) exited \(status)")
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: output)))
    }
}

/// NDJSON sample data: `count` records, each different.
func sampleNDJSON(_ count: Int, from start: Int = 1) -> [UInt8] {
    Array((start..<(start + count)).map { "{\"id\":\($0),\"name\":\"item \($0)\",\"tags\":[\"t\($0 % 7)\"],\"total\":\(Double($0) * 1.25)}\n" }.joined().utf8)
}

/// The records `FileReader` frames from `file`, as text, with the outcome.
func readTexts(_ file: InputFile, _ options: ReadOptions = ReadOptions()) -> (FileReadOutcome, [String]) {
    let (outcome, batches) = readAll(file, options)
    return (outcome, texts(batches))
}
