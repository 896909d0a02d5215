import Foundation
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

extension InputsTests {
    @Suite struct GzipTests {
        let ndjson = (1...500).map { "{\"id\":\($0),\"name\":\"item \($0)\"}\n" }.joined()

        @Test(arguments: [7, 64, 256 << 10])
        func multiMemberReadsWhole(chunkSize: Int) throws {
            let dir = try TempDir()
            let lines = ndjson.split(separator: "\n", omittingEmptySubsequences: false)
            let half = lines.count / 2
            let first = lines[..<half].joined(separator: "\n") + "\n"
            let second = lines[half...].joined(separator: "\n")
            let file = try dir.write("data", gzipMember(first) + gzipMember(second, level: 1) + gzipMember(""))
            let (outcome, batches) = readAll(file, ReadOptions(chunkSize: chunkSize))
            #expect(outcome.failure == nil)
            #expect(outcome.records == 500)
            #expect(outcome.decodedBytes == ndjson.utf8.count)
            #expect(outcome.fileBytes == file.size)
            #expect(texts(batches).last == "{\"id\":500,\"name\":\"item 500\"}")
        }

        @Test func compressorOutputIsReadByGzipTool() throws {
            let dir = try TempDir()
            let file = try dir.write("x.gz", gzipMember("hello ") + gzipMember("world\n"))
            #expect(try runTool("/usr/bin/gzip", ["-t", file.path]) == 0)
            #expect(try runTool("/usr/bin/gzip", ["-d", file.path]) == 0)
            #expect(try String(contentsOfFile: dir.path + "/x", encoding: .utf8) == "hello world\n")
        }

        @Test func gzipToolOutputIsRead() throws {
            let dir = try TempDir()
            try dir.write("tool.ndjson", ndjson)
            #expect(try runTool("/usr/bin/gzip", ["-n", dir.path + "/tool.ndjson"]) == 0)
            let file = InputFile(relativePath: "tool.ndjson.gz", path: dir.path + "/tool.ndjson.gz", size: 0, mtime: 0)
            let (outcome, _) = readAll(file, ReadOptions(chunkSize: 100))
            #expect(outcome.failure == nil)
            #expect(outcome.records == 500)
        }

        @Test func truncatedStreamFails() throws {
            let dir = try TempDir()
            let whole = gzipMember(ndjson)
            let file = try dir.write("t.json.gz", Array(whole.prefix(whole.count / 2)))
            let (outcome, _) = readAll(file, ReadOptions(chunkSize: 64))
            let failure = try #require(outcome.failure)
            #expect(failure.kind == .io)
            #expect(failure.offset == file.size)
            #expect(failure.message == "gzip stream is truncated: the file ends at byte \(file.size) inside member 1")
            #expect(failure.file == "t.json.gz")
            #expect(failure.stage == "input")
        }

        @Test func truncatedTrailerFails() throws {
            let dir = try TempDir()
            let whole = gzipMember("{\"a\":1}\n")
            let file = try dir.write("t.gz", Array(whole.dropLast(3)))
            let (outcome, _) = readAll(file)
            #expect(outcome.failure?.message.contains("truncated") == true)
        }

        @Test func corruptedCRCFails() throws {
            let dir = try TempDir()
            var bytes = gzipMember(ndjson)
            bytes[bytes.count - 6] ^= 0xFF // inside the CRC-32 of the trailer
            let file = try dir.write("crc.gz", bytes)
            let (outcome, _) = readAll(file)
            let failure = try #require(outcome.failure)
            #expect(failure.kind == .io)
            #expect(failure.message.contains("incorrect data check"))
            #expect(failure.message.contains("CRC-32"))
            #expect(failure.offset == bytes.count - 4)
        }

        @Test func corruptedLengthFails() throws {
            let dir = try TempDir()
            var bytes = gzipMember(ndjson)
            bytes[bytes.count - 2] ^= 0x01 // inside ISIZE
            let file = try dir.write("len.gz", bytes)
            let (outcome, _) = readAll(file)
            let failure = try #require(outcome.failure)
            #expect(failure.message.contains("incorrect length check"))
            #expect(failure.offset == bytes.count)
        }

        @Test func garbageAfterMemberFails() throws {
            let dir = try TempDir()
            let member = gzipMember("{\"a\":1}\n")
            let file = try dir.write("g.gz", member + Array("garbage".utf8))
            let (outcome, batches) = readAll(file)
            let failure = try #require(outcome.failure)
            #expect(failure.message.contains("member 2"))
            #expect(failure.message.contains("garbage after the end of member 1"))
            #expect((failure.offset ?? 0) >= member.count)
            #expect(batches.isEmpty) // the partial batch is not emitted after a fault
        }

        @Test func corruptDeflateDataFails() throws {
            let dir = try TempDir()
            var bytes = gzipMember(ndjson)
            for i in 20..<40 { bytes[i] = 0xFF }
            let file = try dir.write("bad.gz", bytes)
            let (outcome, _) = readAll(file)
            #expect(outcome.failure?.kind == .io)
            #expect(outcome.failure?.message.hasPrefix("gzip data error at byte") == true)
        }

        @Test func plainFilePassesThrough() throws {
            let dir = try TempDir()
            // A name ending in .gz does not make a plain file gzip.
            let file = try dir.write("plain.ndjson.gz", ndjson)
            let (outcome, _) = readAll(file, ReadOptions(chunkSize: 1))
            #expect(outcome.failure == nil)
            #expect(outcome.records == 500)
            #expect(outcome.fileBytes == ndjson.utf8.count)
            #expect(outcome.decodedBytes == ndjson.utf8.count)
        }

        @Test func emptyMemberAndEmptyFile() throws {
            let dir = try TempDir()
            let (a, ab) = readAll(try dir.write("e.gz", gzipMember("")))
            #expect(a.failure == nil && ab.isEmpty)
            let (b, bb) = readAll(try dir.write("e.json", ""))
            #expect(b.failure == nil && bb.isEmpty && b.records == 0)
        }
    }
}
