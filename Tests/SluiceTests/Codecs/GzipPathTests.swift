import Foundation
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

extension CodecsTests {
    /// Gzip through ISA-L and through zlib: the same records, the same errors.
    @Suite struct GzipPathTests {
        static let hasISAL = ISAL.library != nil

        static func read(_ file: InputFile, zlib: Bool, chunkSize: Int = 64 << 10) -> (FileReadOutcome, [String]) {
            var options = ReadOptions(chunkSize: chunkSize)
            options.codecs.usesFallback = zlib
            return readTexts(file, options)
        }

        @Test(.enabled(if: hasISAL, "libisal.so.2 is not installed (apt-get install libisal2): only the zlib path runs"))
        func isalIsUsedUnlessForcedOff() throws {
            #expect(try GzipCodec().makeFrameDecoder(CodecOptions(usesFallback: false)) is GzipISALDecoder)
            #expect(try GzipCodec().makeFrameDecoder(CodecOptions(usesFallback: true)) is GzipZlibDecoder)
        }

        /// Members of every level and library, pigz's output, and an empty member.
        @Test(.enabled(if: hasISAL, "libisal.so.2 is not installed"))
        func bothLibrariesGiveIdenticalRecords() throws {
            let dir = try TempDir()
            var bytes: [UInt8] = []
            for (i, level) in [1, 2, 3, 6, 9].enumerated() {
                sampleNDJSON(400, from: i * 400 + 1).withUnsafeBytes { GzipMember.compress($0, level: level, appendingTo: &bytes) }
            }
            [UInt8]().withUnsafeBytes { GzipMember.compress($0, level: 1, appendingTo: &bytes) }
            if CodecTools.has("pigz") { bytes += try CodecTools.compress(sampleNDJSON(500, from: 2001), with: "pigz -c -1", in: dir) }
            let file = try dir.write("m.ndjson.gz", bytes)
            for chunkSize in [5, 1000, 1 << 20] {
                let isal = Self.read(file, zlib: false, chunkSize: chunkSize), zlib = Self.read(file, zlib: true, chunkSize: chunkSize)
                #expect(isal.0.failure == nil && zlib.0.failure == nil)
                #expect(isal.1 == zlib.1)
                #expect(isal.1.count == (CodecTools.has("pigz") ? 2500 : 2000))
                #expect(isal.0.decodedBytes == zlib.0.decodedBytes)
            }
        }

        /// Truncation, CRC, length and garbage: one message and offset whichever library.
        @Test(.enabled(if: hasISAL, "libisal.so.2 is not installed"))
        func bothLibrariesReportTheSameFaults() throws {
            let dir = try TempDir()
            let member = gzipMember(String(decoding: sampleNDJSON(300), as: UTF8.self))
            var crc = member, length = member
            crc[crc.count - 6] ^= 0xFF
            length[length.count - 2] ^= 0x01
            let cases: [(String, [UInt8], String)] = [
                ("truncated", Array(member.prefix(member.count / 2)), "gzip stream is truncated"),
                ("crc", crc, "incorrect data check (CRC-32 mismatch"),
                ("length", length, "incorrect length check"),
                ("garbage", member + Array("garbage".utf8), "garbage after the end of member 1"),
                ("second-truncated", member + Array(member.prefix(30)), "inside member 2"),
            ]
            for (name, bytes, expected) in cases {
                let file = try dir.write("\(name).gz", bytes)
                for chunkSize in [64 << 10, 100] {
                    let isal = try #require(Self.read(file, zlib: false, chunkSize: chunkSize).0.failure, "\(name)")
                    let zlib = try #require(Self.read(file, zlib: true, chunkSize: chunkSize).0.failure, "\(name)")
                    #expect(isal.message.contains(expected), "\(name): \(isal.message)")
                    #expect(zlib.message.contains(expected), "\(name): \(zlib.message)")
                    #expect(isal.kind == .io && zlib.kind == .io)
                    #expect(isal.offset == zlib.offset, "\(name): ISA-L at \(isal.offset ?? -1), zlib at \(zlib.offset ?? -1)")
                }
            }
        }

        @Test(arguments: [false, true])
        func zeroPaddingIsIgnoredWithAWarning(zlib: Bool) throws {
            let dir = try TempDir()
            let text = String(decoding: sampleNDJSON(50), as: UTF8.self)
            let file = try dir.write("pad.ndjson.gz", gzipMember(text) + [UInt8](repeating: 0, count: 10_000))
            let (outcome, records) = Self.read(file, zlib: zlib, chunkSize: 1000)
            #expect(outcome.failure == nil, "\(outcome.failure?.message ?? "")")
            #expect(records.count == 50)
            #expect(outcome.warnings == ["10000 zero bytes of padding after the last gzip member ignored (as gzip does)"])
            #expect(outcome.fileBytes == file.size)
        }

        @Test(arguments: [false, true])
        func garbageAfterPaddingFails(zlib: Bool) throws {
            let dir = try TempDir()
            let member = gzipMember("{\"a\":1}\n")
            let file = try dir.write("padg.gz", member + [0, 0, 0, 0, 7])
            let failure = try #require(Self.read(file, zlib: zlib).0.failure)
            #expect(failure.message.contains("a non-zero byte after 4 bytes of zero padding that follow member 1"))
            #expect(failure.offset == member.count + 4)
        }

        @Test func gzipToolAgreesOnPadding() throws {
            // GNU gzip decodes the same file (and warns): the reference for the rule.
            let dir = try TempDir()
            let file = try dir.write("ref.gz", gzipMember("x\n") + [0, 0, 0])
            #expect(try runTool("/usr/bin/gzip", ["-t", "-q", file.path]) != 1)
        }

        @Test func isalDeflateIsReadByGzipAndIsStable() throws {
            let dir = try TempDir()
            let text = sampleNDJSON(5000)
            for level in 1...3 {
                var first: [UInt8] = [], other: [UInt8] = [], second: [UInt8] = []
                text.withUnsafeBytes { GzipMember.compress($0, level: level, appendingTo: &first) }
                // A pooled stream that compressed something else in between must not
                // remember it: the bytes may not depend on what a thread did before.
                sampleNDJSON(3000, from: 90_000).withUnsafeBytes { GzipMember.compress($0, level: level, appendingTo: &other) }
                text.withUnsafeBytes { GzipMember.compress($0, level: level, appendingTo: &second) }
                #expect(first.elementsEqual(second), "level \(level): the same input must give the same bytes")
                let file = try dir.write("l\(level).gz", first)
                #expect(try runTool("/usr/bin/gzip", ["-t", file.path]) == 0)
                #expect(Self.read(file, zlib: true).1.count == 5000)
            }
            var empty: [UInt8] = []
            [UInt8]().withUnsafeBytes { GzipMember.compress($0, level: 1, appendingTo: &empty) }
            let file = try dir.write("empty.gz", empty)
            #expect(try runTool("/usr/bin/gzip", ["-t", file.path]) == 0)
        }

        @Test func bombIsStopped() throws {
            let dir = try TempDir()
            var bytes: [UInt8] = []
            [UInt8](repeating: 0x20, count: 8 << 20).withUnsafeBytes { GzipMember.compress($0, level: 9, appendingTo: &bytes) }
            let file = try dir.write("bomb.ndjson.gz", bytes)
            var options = ReadOptions()
            options.codecs.maxExpansion = 100
            options.codecs.expansionFloor = 1 << 20
            let failure = try #require(readTexts(file, options).0.failure)
            #expect(failure.kind == .io)
            #expect(failure.message.contains("decompression bomb"))
            #expect(readTexts(file).0.failure == nil) // within the default limits
        }
    }
}

extension CodecsTests {
    /// Compressing one batch gives the same bytes whatever the pooled compressor did
    /// before, on any thread: output bytes must not depend on worker counts.
    @Suite struct DeflateDeterminismTests {
        @Test(arguments: [1, 3])
        func sameBatchSameBytesAcrossThreads(level: Int) {
            let batches = (0..<8).map { sampleNDJSON(64 + $0 * 37, from: $0 * 1000 + 1) }
            @Sendable func compress(_ bytes: [UInt8]) -> [UInt8] {
                var out: [UInt8] = []
                bytes.withUnsafeBytes { GzipMember.compress($0, level: level, appendingTo: &out) }
                return out
            }
            let expected = batches.map(compress)
            let results = ConditionLockedResults(count: 4 * 40)
            DispatchQueue.concurrentPerform(iterations: 4 * 40) { i in
                let b = (i * 7 + i / 4) % batches.count
                results.set(i, compress(batches[b]) == expected[b])
            }
            #expect(results.all, "a batch compressed to different bytes on another thread or after another batch")
        }
    }
}

/// Per-iteration outcomes of a concurrent loop.
final class ConditionLockedResults: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Bool]
    init(count: Int) { values = Array(repeating: true, count: count) }
    func set(_ i: Int, _ value: Bool) { lock.lock(); values[i] = value; lock.unlock() }
    var all: Bool { lock.lock(); defer { lock.unlock() }; return values.allSatisfy { $0 } }
}

extension CodecsTests.DeflateDeterminismTests {
    /// The bytes after a batch in memory (an array's spare capacity) play no part.
    @Test(arguments: [1, 2, 3, 6])
    func bytesBeyondTheInputPlayNoPart(level: Int) {
        let text = sampleNDJSON(64)
        var outputs: [[UInt8]] = []
        for junk in [UInt8(0), 0x41, 0x7B, 0xFF] {
            let buffer = text + [UInt8](repeating: junk, count: 4096)
            var out: [UInt8] = []
            buffer.withUnsafeBytes { GzipMember.compress(UnsafeRawBufferPointer(rebasing: $0[0..<text.count]), level: level, appendingTo: &out) }
            outputs.append(out)
        }
        #expect(outputs.allSatisfy { $0 == outputs[0] }, "level \(level): the bytes after the input changed the output")
    }
}

extension CodecsTests.DeflateDeterminismTests {
    /// A fresh compressor's buffers come from malloc, holding whatever was freed there
    /// before: that must not reach the output.
    @Test(.enabled(if: ISAL.library != nil, "libisal.so.2 is not installed"))
    func reusedMemoryPlaysNoPart() throws {
        let library = try #require(ISAL.library)
        let text = sampleNDJSON(200)
        var expected: [UInt8] = []
        _ = text.withUnsafeBytes { ISALDeflater(library).gzip($0, level: 1, appendingTo: &expected) }
        for junk in [UInt8(0xAB), 0x01, 0xFF] {
            // Leave junk where the next level buffers will be allocated.
            for _ in 0..<8 {
                let size = ISAL.levelBufferSizes[3]
                let block = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
                block.initializeMemory(as: UInt8.self, repeating: junk, count: size)
                block.deallocate()
            }
            var out: [UInt8] = []
            _ = text.withUnsafeBytes { ISALDeflater(library).gzip($0, level: 1, appendingTo: &out) }
            #expect(out == expected, "junk 0x\(String(junk, radix: 16)) in a fresh level buffer changed the output")
        }
    }
}

extension CodecsTests.DeflateDeterminismTests {
    /// The level buffer is not cleared between members (it cost 1.4-1.6 % of the bench):
    /// whatever it holds — junk of any byte, or the state of another member at another
    /// level — must not reach the output. Inputs cover the paths ISA-L takes: empty, tiny,
    /// the narrowed hash of a short input, many blocks, incompressible bytes, a run of one
    /// byte (its repeated-character shortcut) and text after such a run.
    @Test(.enabled(if: ISAL.library != nil, "libisal.so.2 is not installed"))
    func staleLevelBufferPlaysNoPart() throws {
        let library = try #require(ISAL.library)
        var random = SplitMix64(seed: 0x150A1)
        let noise = (0..<150_000).map { _ in UInt8.random(in: 0...255, using: &random) }
        let inputs: [[UInt8]] = [
            [], [0x7B], sampleNDJSON(3), sampleNDJSON(200), sampleNDJSON(6000),
            noise, [UInt8](repeating: 0, count: 70_000), [UInt8](repeating: 0xFF, count: 9) + sampleNDJSON(50),
            sampleNDJSON(900) + noise.prefix(20_000) + sampleNDJSON(900, from: 5),
        ]
        for level in 1...3 {
            for (n, input) in inputs.enumerated() {
                var expected: [UInt8] = []
                let clean = ISALDeflater(library)
                #expect(input.withUnsafeBytes { clean.gzip($0, level: level, appendingTo: &expected, fill: 0) })
                for junk in [UInt8(0xAB), 0xFF, 0x01, 0x80] {
                    var out: [UInt8] = []
                    _ = input.withUnsafeBytes { clean.gzip($0, level: level, appendingTo: &out, fill: junk) }
                    #expect(out == expected, "level \(level), input \(n): junk 0x\(String(junk, radix: 16)) in the level buffer changed the output")
                }
                // One pooled compressor, after members of other inputs at every level.
                let pooled = ISALDeflater(library)
                for other in 1...3 {
                    var scratch: [UInt8] = []
                    _ = inputs[(n + other) % inputs.count].withUnsafeBytes { pooled.gzip($0, level: other, appendingTo: &scratch) }
                }
                var out: [UInt8] = []
                _ = input.withUnsafeBytes { pooled.gzip($0, level: level, appendingTo: &out) }
                #expect(out == expected, "level \(level), input \(n): a previous member's state changed the output")
            }
        }
    }
}
