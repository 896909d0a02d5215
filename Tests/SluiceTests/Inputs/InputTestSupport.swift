import Foundation
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// Groups the tests of `Sources/Sluice/Inputs` (`swift test --filter Inputs`).
@Suite enum InputsTests {}

/// A temporary directory removed when the value is dropped.
final class TempDir {
    let url: URL
    var path: String { url.path }

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-inputs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    @discardableResult
    func write(_ relative: String, _ bytes: [UInt8]) throws -> InputFile {
        let file = url.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: file)
        return InputFile(relativePath: relative, path: file.path, size: bytes.count, mtime: 0)
    }

    @discardableResult
    func write(_ relative: String, _ text: String) throws -> InputFile {
        try write(relative, Array(text.utf8))
    }
}

func gzipMember(_ text: String, level: Int = 6) -> [UInt8] {
    var out: [UInt8] = []
    Array(text.utf8).withUnsafeBytes { GzipMember.compress($0, level: level, appendingTo: &out) }
    return out
}

/// Reads a whole file, collecting batches.
func readAll(_ file: InputFile, _ options: ReadOptions = ReadOptions()) -> (FileReadOutcome, [Batch]) {
    var batches: [Batch] = []
    let outcome = FileReader.read(file, fileIndex: 7, options: options) { batches.append($0) }
    return (outcome, batches)
}

/// The records of the batches, as strings.
func texts(_ batches: [Batch]) -> [String] {
    batches.flatMap { batch in
        batch.records.map { String(decoding: batch.bytes[$0.start..<$0.end], as: UTF8.self) }
    }
}

func slots(_ batches: [Batch]) -> [RecordSlot] { batches.flatMap(\.records) }

/// Runs a command (no pipes: tools work on files) and returns its exit status; kills it after `timeout`.
func runTool(_ path: String, _ arguments: [String], timeout: TimeInterval = 20) throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning {
        if Date() > deadline {
            process.terminate()
            break
        }
        usleep(10_000)
    }
    process.waitUntilExit()
    return process.terminationStatus
}
