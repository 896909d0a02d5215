import Foundation
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

extension CodecsTests {
    /// A multi-stream bzip2 file decoded on several threads gives what one thread gives:
    /// the same records in the same order, the same counts, fingerprint and faults.
    @Suite(.enabled(if: CodecTools.has("bzip2"), "bzip2 is not installed: the parallel bzip2 tests are skipped"))
    struct ParallelBzip2Tests {
        static func options(threads: Int, segment: Int = 16 << 10, chunkSize: Int = 64 << 10) -> ReadOptions {
            var options = ReadOptions(batchSize: 100, chunkSize: chunkSize)
            options.codecs.decodeThreads = threads
            options.codecs.bzip2Segment = segment
            return options
        }

        /// `streams` bzip2 streams of NDJSON, back to back (as lbzip2 and Wikipedia's
        /// multistream dumps are), compressed by the bzip2 tool.
        static func multiStream(_ dir: TempDir, streams: Int, records: Int) throws -> [UInt8] {
            var bytes: [UInt8] = []
            for s in 0..<streams {
                bytes += try CodecTools.compress(sampleNDJSON(records, from: s * records + 1), with: "bzip2 -c -9", in: dir)
            }
            return bytes
        }

        static func compare(_ file: InputFile, chunkSize: Int = 64 << 10) -> (FileReadOutcome, [String]) {
            let one = readTexts(file, options(threads: 1, chunkSize: chunkSize))
            let many = readTexts(file, options(threads: 2, chunkSize: chunkSize))
            #expect(many.0.failure == one.0.failure)
            // A failed file's records are withheld; how far each read got may differ.
            guard one.0.failure == nil else { return many }
            #expect(many.1 == one.1, "records differ between 1 and 2 decode threads")
            #expect(many.0.decodedBytes == one.0.decodedBytes)
            #expect(many.0.fileBytes == one.0.fileBytes)
            #expect(many.0.fingerprint == one.0.fingerprint)
            #expect(many.0.batches == one.0.batches)
            return many
        }

        @Test func multiStreamFileMatchesSequentialDecoding() throws {
            let dir = try TempDir()
            let bytes = try Self.multiStream(dir, streams: 40, records: 1500)
            let file = try dir.write("dump.ndjson.bz2", bytes)
            #expect(bytes.count > 8 * (16 << 10), "the file must span many segments")
            for chunkSize in [1000, 64 << 10] {
                let (outcome, records) = Self.compare(file, chunkSize: chunkSize)
                #expect(outcome.failure == nil)
                #expect(records.count == 60_000)
                #expect(records.first?.hasPrefix("{\"id\":1,") == true && records.last?.hasPrefix("{\"id\":60000,") == true)
            }
        }

        @Test func singleStreamFileIsCutWithoutCandidatesAndStillDecodes() throws {
            let dir = try TempDir()
            let bytes = try CodecTools.compress(sampleNDJSON(60_000), with: "bzip2 -c -1", in: dir)
            let file = try dir.write("one.ndjson.bz2", bytes)
            #expect(bytes.count > 8 * 8 * (16 << 10) / 4)
            let (outcome, records) = Self.compare(file)
            #expect(outcome.failure == nil)
            #expect(records.count == 60_000)
        }

        @Test func corruptAndTruncatedStreamsFailAsSequentialDecodingDoes() throws {
            let dir = try TempDir()
            let whole = try Self.multiStream(dir, streams: 30, records: 1000)
            var corrupt = whole
            corrupt[whole.count * 2 / 3] ^= 0x10
            let (bad, _) = Self.compare(try dir.write("bad.ndjson.bz2", corrupt))
            #expect(bad.failure?.message.hasPrefix("bzip2 data error at byte") == true, "\(bad.failure?.message ?? "no failure")")
            let (cut, _) = Self.compare(try dir.write("cut.ndjson.bz2", Array(whole.prefix(whole.count - 100))))
            #expect(cut.failure?.message.contains("truncated") == true, "\(cut.failure?.message ?? "no failure")")
            let (padded, records) = Self.compare(try dir.write("pad.ndjson.bz2", whole + [UInt8](repeating: 0, count: 512)))
            #expect(padded.failure == nil && records.count == 30_000)
            #expect(padded.warnings == ["512 zero bytes of padding after the last bzip2 stream ignored (as gzip does)"])
            let (garbage, _) = Self.compare(try dir.write("garbage.ndjson.bz2", whole + Array("trailing".utf8)))
            #expect(garbage.failure?.message.contains("garbage after the end of stream 30") == true, "\(garbage.failure?.message ?? "no failure")")
        }

        @Test func streamStartsAreRecognised() {
            let start: [UInt8] = Array("BZh9".utf8) + [0x31, 0x41, 0x59, 0x26, 0x53, 0x59]
            let empty: [UInt8] = Array("BZh1".utf8) + [0x17, 0x72, 0x45, 0x38, 0x50, 0x90]
            start.withUnsafeBufferPointer { #expect(ParallelBzip2.isStreamStart($0, at: 0)) }
            empty.withUnsafeBufferPointer { #expect(ParallelBzip2.isStreamStart($0, at: 0)) }
            Array(start.dropLast()).withUnsafeBufferPointer { #expect(!ParallelBzip2.isStreamStart($0, at: 0)) }
            (Array("BZh0".utf8) + start.dropFirst(4)).withUnsafeBufferPointer { #expect(!ParallelBzip2.isStreamStart($0, at: 0)) }
        }
    }
}

extension CodecsTests {
    @Suite struct DecoderMemoryTests {
    @Test func decoderMemoryBoundCoversTheWindowAndTheBzip2Threads() {
        #expect(CodecOptions(decodeThreads: 1).decoderMemoryBound == (1 << 31) + (2 << 20))
        let small = CodecOptions(maxWindow: 1 << 20, decodeThreads: 2)
        #expect(small.decoderMemoryBound == (min(2, CodecOptions.cores) > 1 ? 4 : 1) * (8 * (512 << 10) + (16 << 20)))
    }
}
}
