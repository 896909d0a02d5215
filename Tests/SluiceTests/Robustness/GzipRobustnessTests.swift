import Foundation
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

extension RobustnessTests {
    @Suite struct GzipRobustnessTests {
        static let seed: UInt64 = 0x5EED_0003

        /// Corrupted gzip files (one or several members): the reader gives back exactly the
        /// records of the intact file, or stops with an `io` failure that names an offset
        /// inside the file — never a trap or a hang.
        @Test func corruptedGzipGivesTheOriginalOrAFailure() throws {
            var rng = SplitMix64(seed: Self.seed)
            let dir = try TempDir()
            var failures = 0
            for n in 0..<120 {
                var plain: [UInt8] = []
                for _ in 0..<rng.int(1...30) { plain += Array(SampleRecords.record(using: &rng).utf8) + [0x0A] }
                let plainFile = try dir.write("plain\(n).ndjson", plain)
                let expected = ReadSnapshot(readAll(plainFile, ReadOptions(batchSize: 4)).0, readAll(plainFile, ReadOptions(batchSize: 4)).1)

                // Split into 1–3 members.
                var gzip: [UInt8] = []
                var cut = 0
                let members = rng.int(1...3)
                for m in 0..<members {
                    let next = m == members - 1 ? plain.count : rng.int(cut...plain.count)
                    plain[cut..<next].withUnsafeBytes { GzipMember.compress($0, level: rng.pick([1, 6, 9]), appendingTo: &gzip) }
                    cut = next
                }
                var damaged = gzip
                for _ in 0..<rng.int(1...3) {
                    switch rng.int(0..<5) {
                    case 0: damaged[rng.int(0..<damaged.count)] ^= UInt8(1) << UInt8(rng.int(0..<8))
                    case 1: damaged.removeSubrange(rng.int(2...damaged.count)...)
                    case 2: damaged.insert(contentsOf: rng.bytes(rng.int(1...8)), at: rng.int(2...damaged.count))
                    case 3: damaged += rng.pick([[0], [0x1F, 0x8B], rng.bytes(rng.int(1...20)), Array(gzip.prefix(12))])
                    default:
                        let i = rng.int(2..<damaged.count)
                        damaged.removeSubrange(i..<min(damaged.count, i + rng.int(1...16)))
                    }
                }
                guard damaged.starts(with: [0x1F, 0x8B]) else { continue }
                let file = try dir.write("case\(n).ndjson.gz", damaged)
                for chunkSize in [rng.int(2...16), rng.int(17...4096), 1 << 20] {
                    let (outcome, batches) = readAll(file, ReadOptions(batchSize: 4, chunkSize: chunkSize))
                    if let failure = outcome.failure {
                        failures += 1
                        #expect(failure.kind == .io, "case \(n): \(failure.message)")
                        #expect(failure.offset.map { $0 >= 0 && $0 <= damaged.count } == true, "case \(n): offset \(String(describing: failure.offset)) of \(damaged.count) bytes")
                        // Records framed before the failure may hold corrupt bytes (the CRC is
                        // only checked at a member's end); the sink withholds all of them.
                        _ = batches
                    } else {
                        let got = ReadSnapshot(outcome, batches)
                        #expect(got.records == expected.records && got.errors == expected.errors, "case \(n), chunk size \(chunkSize): a damaged file decoded to different records")
                    }
                }
            }
            #expect(failures > 100)
        }

        /// A gzip file that is nothing but its magic, or a header without data, fails cleanly.
        @Test(arguments: [[0x1F, 0x8B], [0x1F, 0x8B, 0x08], [0x1F, 0x8B, 0x08, 0x00, 0, 0, 0, 0, 0, 3], [0x1F, 0x8B, 0xFF, 0xFF]] as [[UInt8]])
        func truncatedHeaders(_ bytes: [UInt8]) throws {
            let dir = try TempDir()
            let (outcome, batches) = readAll(try dir.write("tiny.gz", bytes), ReadOptions(chunkSize: 2))
            #expect(outcome.failure?.kind == .io && outcome.failure?.offset != nil)
            #expect(batches.isEmpty)
        }
    }
}
