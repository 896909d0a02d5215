import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

extension InputsTests {
    @Suite struct JSONFramingTests {
        static let array = """
        [
          {"id": 1, "s": "a ] } [ { string"},
          {"id": 2, "s": "escaped \\" quote ] and \\\\"},
          [1, [2, 3]],
          "plain ] string",
          42, true ,null,
          {"nested": {"deep": [{"x": "}"}]}}
        ]

        """

        @Test(arguments: [1, 2, 7, 33, 256 << 10])
        func arrayStreamsElements(chunkSize: Int) throws {
            let dir = try TempDir()
            let file = try dir.write("a.json", Self.array)
            let (outcome, batches) = readAll(file, ReadOptions(format: .json, batchSize: 3, chunkSize: chunkSize))
            #expect(outcome.failure == nil)
            #expect(texts(batches) == [
                "{\"id\": 1, \"s\": \"a ] } [ { string\"}",
                "{\"id\": 2, \"s\": \"escaped \\\" quote ] and \\\\\"}",
                "[1, [2, 3]]",
                "\"plain ] string\"",
                "42", "true", "null",
                "{\"nested\": {\"deep\": [{\"x\": \"}\"}]}}",
            ])
            #expect(slots(batches).map(\.line) == [2, 3, 4, 5, 6, 6, 6, 7])
            let bytes = Array(Self.array.utf8)
            // Offsets point at each element's first byte.
            let firstBytes = slots(batches).map { bytes[$0.offset] }
            #expect(firstBytes == Array("{{[\"4tn{".utf8))
            #expect(batches.map(\.index) == [0, 1, 2])
        }

        @Test func autoSniffsArrayInGzip() throws {
            let dir = try TempDir()
            let file = try dir.write("data.json.gz", gzipMember("\u{FEFF}  " + Self.array))
            let (outcome, batches) = readAll(file, ReadOptions(chunkSize: 5))
            #expect(outcome.failure == nil)
            #expect(outcome.records == 8)
            #expect(slots(batches)[0].offset == 3 + 2 + 4)
        }

        @Test(arguments: ["[]", "  [ ]\n", "[\n]"])
        func emptyArrayHasNoRecords(text: String) throws {
            let dir = try TempDir()
            let (outcome, batches) = readAll(try dir.write("e.json", text))
            #expect(outcome.failure == nil && batches.isEmpty)
        }

        @Test(arguments: [
            ("[{\"a\":1},{\"b\":2}", "the JSON array is truncated: the input ends before its closing ']'", 16),
            ("[{\"a\":1},{\"b\":", "the JSON array is truncated: the input ends before its closing ']'", 14),
            ("[{\"a\":1} {\"b\":2}]", "expected ',' or ']' after an array element at offset 9", 9),
            ("[{\"a\":1},]", "expected an array element after ',' but found ']' at offset 9", 9),
            ("[,1]", "expected an array element or ']' but found ',' at offset 1", 1),
            ("[1]\n[2]", "unexpected data after the closing ']' of the top-level array at offset 4", 4),
        ])
        func brokenArrayFailsFile(text: String, message: String, offset: Int) throws {
            let dir = try TempDir()
            let (outcome, _) = readAll(try dir.write("b.json", text), ReadOptions(chunkSize: 3))
            let failure = try #require(outcome.failure)
            #expect(failure.kind == .parse)
            #expect(failure.message == message)
            #expect(failure.offset == offset)
            #expect(failure.stage == "input")
        }

        /// A fault still hands over every record framed before it (the sink withholds
        /// them all), so the file's error line can count what was discarded.
        @Test func truncatedArrayHandsOverEveryFramedRecord() throws {
            let dir = try TempDir()
            let text = "[" + (0..<10).map { "{\"i\":\($0)}" }.joined(separator: ",")
            let (outcome, batches) = readAll(try dir.write("t.json", text), ReadOptions(batchSize: 4))
            #expect(outcome.failure?.kind == .parse)
            #expect(outcome.batches == 3 && outcome.records == 10)
            #expect(batches.map(\.records.count) == [4, 4, 2])
        }

        @Test(arguments: [3, 64])
        func oversizedElementIsSkipped(chunkSize: Int) throws {
            let dir = try TempDir()
            let big = "{\"s\":\"" + String(repeating: "]", count: 2000) + "\"}"
            let text = "[{\"a\":1},\n" + big + ",\n{\"b\":2}]"
            let (outcome, batches) = readAll(try dir.write("o.json", text), ReadOptions(maxRecordBytes: 50, chunkSize: chunkSize))
            #expect(outcome.failure == nil)
            #expect(texts(batches) == ["{\"a\":1}", "{\"b\":2}"])
            let errors = batches.flatMap(\.errors)
            #expect(errors.count == 1)
            #expect(errors.first?.kind == .limit)
            #expect(errors.first?.line == 2)
            #expect(errors.first?.offset == 10)
            #expect(errors.first?.record == .raw(Array(big.utf8.prefix(1024)), truncated: true))
        }

        @Test(arguments: [2, 7, 4096])
        func singlePrettyObjectIsOneRecord(chunkSize: Int) throws {
            let dir = try TempDir()
            let text = "\n\n{\n  \"id\": 1,\n  \"tags\": [\"a\", \"b\"]\n}\n\n"
            let (outcome, batches) = readAll(try dir.write("doc.json", text), ReadOptions(chunkSize: chunkSize))
            #expect(outcome.failure == nil)
            #expect(texts(batches) == ["{\n  \"id\": 1,\n  \"tags\": [\"a\", \"b\"]\n}"])
            #expect(slots(batches).map { [$0.line, $0.offset] } == [[3, 2]])
        }

        @Test func singleDocumentOverLimit() throws {
            let dir = try TempDir()
            let text = "{\n\"s\": \"" + String(repeating: "q", count: 500) + "\"\n}\n"
            let (outcome, batches) = readAll(try dir.write("doc.json", text), ReadOptions(maxRecordBytes: 100, chunkSize: 16))
            #expect(outcome.records == 0)
            #expect(batches.flatMap(\.errors).map(\.kind) == [.limit])
        #expect(batches.flatMap(\.errors).first?.record == .raw(Array(text.utf8.prefix(511)), truncated: true))
        #expect(batches.flatMap(\.errors).first?.line == 1)
        }

        @Test(arguments: [
            ("a.ndjson", "[1]\n[2]\n", 2),        // extension wins over content
            ("a.jsonl.gz", "{\n}", 2),             // NDJSON by name: two (broken) lines
            ("a.json", "{\"a\":1}\n{\"a\":2}\n", 2), // first line complete → NDJSON
            ("a.txt", "{\"a\":\n1}\n", 1),          // first line open → one document
            ("a", "{\"a\":1}", 1),                  // single line, no newline
            ("a", "[1,2,3]", 3),                    // array
            ("a", "garbage\nmore\n", 2),            // anything else → NDJSON
            ("a", " \n\t\n", 0),                    // whitespace only
        ])
        func autoSniffing(name: String, text: String, records: Int) throws {
            let dir = try TempDir()
            for chunkSize in [2, 5, 1 << 16] {
                let (outcome, _) = readAll(try dir.write(name, text), ReadOptions(chunkSize: chunkSize))
                #expect(outcome.failure == nil)
                #expect(outcome.records == records, "\(name) chunk \(chunkSize)")
            }
        }

        @Test func formatJsonForcesDocumentOrArray() throws {
            let dir = try TempDir()
            let (outcome, batches) = readAll(try dir.write("x.ndjson", "{\"a\":1}\n{\"a\":2}\n"), ReadOptions(format: .json))
            #expect(outcome.records == 1)
            #expect(texts(batches) == ["{\"a\":1}\n{\"a\":2}"])
        }

        @Test func xmlFilesGoToTheXMLFramer() throws {
            let dir = try TempDir()
            let (byName, batches) = readAll(try dir.write("a.xml.gz", gzipMember("<a><b/></a>")))
            #expect(byName.failure == nil && texts(batches) == [##"{"#name":"b"}"##])
            let (forced, _) = readAll(try dir.write("a.json", "{}"), ReadOptions(format: .xml))
            #expect(forced.failure?.kind == .parse && forced.failure?.message.hasPrefix("xml: line 1") == true)
        }
    }
}
