import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

extension InputsTests {
    @Suite struct NDJSONFramingTests {
        @Test(arguments: [2, 3, 7, 64, 256 << 10])
        func crlfBomAndBlankLines(chunkSize: Int) throws {
            let dir = try TempDir()
            let text = "\u{FEFF}{\"a\":1}\r\n\r\n   \n\t{\"b\":2}  \r\n{\"c\":\"x\\ny\"}\n\n{\"d\":4}"
            let file = try dir.write("x.ndjson", text)
            let (outcome, batches) = readAll(file, ReadOptions(chunkSize: chunkSize))
            #expect(outcome.failure == nil)
            #expect(texts(batches) == ["{\"a\":1}", "{\"b\":2}", "{\"c\":\"x\\ny\"}", "{\"d\":4}"])
            let positions = slots(batches).map { [$0.line, $0.offset] }
            #expect(positions == [[1, 3], [4, 19], [5, 30], [7, 44]])
            #expect(slots(batches).allSatisfy { $0.tapeStart == -1 })
            #expect(outcome.decodedBytes == text.utf8.count)
        }

        @Test func batchesAreNumberedAndBounded() throws {
            let dir = try TempDir()
            let text = (0..<25).map { "{\"i\":\($0)}\n" }.joined()
            let file = try dir.write("n.ndjson", text)
            var seen: [Batch] = []
            let outcome = FileReader.read(file, fileIndex: 4, options: ReadOptions(batchSize: 10, chunkSize: 7)) { seen.append($0) }
            #expect(outcome.batches == 3 && outcome.records == 25)
            #expect(seen.map(\.records.count) == [10, 10, 5])
            #expect(seen.map(\.index) == [0, 1, 2])
            #expect(seen.allSatisfy { $0.file == 4 })
            #expect(texts(seen) == (0..<25).map { "{\"i\":\($0)}" })
            // Records sit in order in each batch's buffer, back to back (the head the reader
            // sniffed is copied) or one line break apart (decoded in place, the buffer
            // keeps what lies between them); nothing of another batch.
            for batch in seen {
                #expect((batch.records.first?.start ?? 0) <= 1)
                #expect(batch.records.last?.end == batch.bytes.count)
                #expect(zip(batch.records, batch.records.dropFirst()).allSatisfy {
                    $0.end == $1.start || $0.end + 1 == $1.start && batch.bytes[$0.end] == 0x0A
                })
            }
            // Copied out of the decoder's buffer instead, back to back: the same records.
            var copied: [Batch] = []
            var copying = ReadOptions(batchSize: 10, chunkSize: 7)
            copying.copiesDecodedBytes = true
            _ = FileReader.read(file, fileIndex: 4, options: copying) { copied.append($0) }
            #expect(texts(copied) == texts(seen) && slots(copied).map(\.offset) == slots(seen).map(\.offset))
            for batch in copied {
                #expect(batch.records.first?.start == 0)
                #expect(zip(batch.records, batch.records.dropFirst()).allSatisfy { $0.end == $1.start })
            }
        }

        @Test func maxBatchBytesClosesEarly() throws {
            let dir = try TempDir()
            let file = try dir.write("n.ndjson", String(repeating: "{\"k\":\"0123456789\"}\n", count: 10))
            let (outcome, batches) = readAll(file, ReadOptions(maxBatchBytes: 40))
            #expect(outcome.records == 10)
            #expect(batches.map(\.records.count) == [3, 3, 3, 1])
        }

        @Test(arguments: [7, 1000])
        func longLineBecomesLimitErrorAndResyncs(chunkSize: Int) throws {
            let dir = try TempDir()
            let long = "{\"big\":\"" + String(repeating: "x", count: 3000) + "\"}"
            let text = "{\"a\":1}\n" + long + "\r\n{\"b\":2}\n"
            let file = try dir.write("l.ndjson", text)
            let (outcome, batches) = readAll(file, ReadOptions(maxRecordBytes: 100, chunkSize: chunkSize))
            #expect(outcome.failure == nil)
            #expect(texts(batches) == ["{\"a\":1}", "{\"b\":2}"])
            #expect(slots(batches).map(\.line) == [1, 3])
            let errors = batches.flatMap(\.errors)
            try #require(errors.count == 1)
            let error = errors[0]
            #expect(error.kind == .limit)
            #expect(error.stage == "input")
            #expect(error.file == "l.ndjson")
            #expect(error.line == 2)
            #expect(error.offset == 8)
            #expect(error.record == .raw(Array(long.utf8.prefix(1024)), truncated: true))
            #expect(error.message.contains("max_record_bytes"))
        }

        @Test func lineExactlyAtLimitIsKept() throws {
            let dir = try TempDir()
            let record = "{\"k\":\"" + String(repeating: "y", count: 92) + "\"}" // 100 bytes
            let file = try dir.write("e.ndjson", record + "\r\n" + record)
            let (outcome, batches) = readAll(file, ReadOptions(maxRecordBytes: 100, chunkSize: 7))
            #expect(outcome.records == 2)
            #expect(batches.flatMap(\.errors).isEmpty)
        }

        @Test func onlyErrorsStillEmitABatch() throws {
            let dir = try TempDir()
            let file = try dir.write("e.ndjson", String(repeating: "z", count: 50) + "\n")
            let (outcome, batches) = readAll(file, ReadOptions(maxRecordBytes: 10))
            #expect(outcome.records == 0)
            #expect(batches.count == 1 && batches[0].errors.count == 1)
        }

        @Test func emitThrowingCancels() throws {
            struct Stop: Error {}
            let dir = try TempDir()
            let file = try dir.write("c.ndjson", String(repeating: "{}\n", count: 100))
            var calls = 0
            let outcome = FileReader.read(file, fileIndex: 0, options: ReadOptions(batchSize: 10)) { _ in
                calls += 1
                if calls == 2 { throw Stop() }
            }
            #expect(outcome.cancelled)
            #expect(outcome.failure == nil)
            #expect(calls == 2)
            #expect(outcome.batches == 2)
        }

        @Test func gzippedNdjsonAcrossTinyChunks() throws {
            let dir = try TempDir()
            let text = (1...200).map { "{\"n\":\($0)}\r\n" }.joined()
            let file = try dir.write("z.jsonl.gz", gzipMember(text))
            let (outcome, batches) = readAll(file, ReadOptions(chunkSize: 7))
            #expect(outcome.records == 200)
            #expect(slots(batches).last?.line == 200)
            #expect(texts(batches).last == "{\"n\":200}")
        }

        @Test func problemFileFailsAtOnce() {
            let file = InputFile(relativePath: "p", path: "/nonexistent", size: 0, mtime: 0, problem: "symbolic link loop")
            let (outcome, _) = readAll(file)
            #expect(outcome.failure == RecordError(file: "p", stage: "input", kind: .io, message: "symbolic link loop"))
            let missing = InputFile(relativePath: "m", path: "/nonexistent/m", size: 0, mtime: 0)
            #expect(readAll(missing).0.failure?.message.hasPrefix("cannot open") == true)
        }
    }
}
