import Foundation
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO

/// Output files start their writeback early (`sync_file_range`) so that the commit's
/// `fsync` has little left; what the file holds, rollbacks and the seal are unchanged.
@Suite struct EarlyWritebackTests {
    @Test func theCallExistsOnLinux() {
        #if os(Linux)
        #expect(EarlyWriteback.isAvailable)
        #endif
    }

    @Test func writebackStartsEveryStepAndTheBytesStayExact() throws {
        let dir = TestSupport.temporaryDirectory("sluice-writeback")
        defer { TestSupport.cleanup(dir) }
        let file = try OutputFile(path: dir.appendingPathComponent("big.ndjson").path, runID: "r")
        let step = OutputFile.writebackStep
        var expected: [UInt8] = []
        func add(_ byte: UInt8, _ count: Int) throws {
            let bytes = [UInt8](repeating: byte, count: count)
            try file.write(bytes)
            expected += bytes
        }
        try add(0x61, step - 1)                 // one byte short of a step: nothing started
        #expect(file.writebacksStarted == 0)
        try add(0x62, 1 << 20)                  // past one step
        #expect(file.writebacksStarted == 1)
        try file.truncate(to: 1000)             // a rollback behind what was handed to writeback
        expected.removeLast(expected.count - 1000)
        try add(0x63, step - 1)                 // one byte short of a step from the cut
        #expect(file.writebacksStarted == 1)
        try add(0x64, 2)                        // gathered, not written: nothing started yet
        #expect(file.writebacksStarted == 1)
        try add(0x65, OutputFile.bufferLimit)   // written (with the gathered 2): past the step
        #expect(file.writebacksStarted == 2)
        // Gathered small writes count once written.
        for _ in 0..<(step / 4096 + 8) { try add(0x66, 4096) }
        #expect(file.writebacksStarted == 3)
        try file.commit()
        #expect(Array(try Data(contentsOf: dir.appendingPathComponent("big.ndjson"))) == expected)
    }
}
