import Testing
@testable import Sluice

@Suite struct JSONIndexerTests {
    @Test(arguments: [
        #"{"a":1,"b":[true,false,null],"c":{"d":"e"}}"#,
        "  [1, -2.5e+3 , \"x\\n\", {}, [], {\"\":0}]\r\n",
        #"{"n": 123456789012345678901234567890, "d": 1e400}"#,
        #"{"z":1,"a":2,"a":3,"\u0061":4}"#,
        "\"caf\u{E9} \u{1F600}\"",
        "0",
    ])
    func rawBytesOfRootReproduceInput(_ text: String) throws {
        try withRoot(text) { view, root in
            var writer = JSONWriter()
            writer.write(view, node: root)
            #expect(writer.bytes == trimmed(Array(text.utf8)))
        }
    }

    @Test func bigNumbersPassThroughMaterialised() throws {
        let text = #"{"n": 123456789012345678901234567890, "d": 1e400, "m": -1E+400}"#
        try withRoot(text) { view, root in
            let value = view.materialize(root)
            #expect(value["n"] == .raw(Array("123456789012345678901234567890".utf8)))
            #expect(value["d"] == .raw(Array("1e400".utf8)))
            var writer = JSONWriter()
            writer.write(value)
            #expect(String(decoding: writer.bytes, as: UTF8.self) == #"{"n":123456789012345678901234567890,"d":1e400,"m":-1E+400}"#)
        }
    }

    @Test func tapeLayout() throws {
        let batch = try indexedBatch(#" {"a":[1,2],"b":"x\"y"} "#)
        let t = batch.tape
        #expect(t.map(\.kind) == [.object, .string, .array, .number, .number, .string, .string])
        #expect(t[0].count == 2 && t[0].start == 1 && t[0].end == 23 && t[0].next == 7)
        #expect(t[2].count == 2 && t[2].next == 5)
        #expect(t[3].flags == TapeEntry.isInteger && t[3].next == 4)
        #expect(t[6].flags == TapeEntry.hasEscapes)
        #expect(batch.records[0].tapeStart == 0 && batch.records[0].tapeEnd == 7)
    }

    @Test func recordsAppendToOneTape() throws {
        let text = Array(#"{"a":1}[2,3]"x""#.utf8)
        var batch = Batch(file: 0, index: 0, bytes: text, records: [
            RecordSlot(start: 0, end: 7, line: 1, offset: 0),
            RecordSlot(start: 7, end: 12, line: 2, offset: 7),
            RecordSlot(start: 12, end: 15, line: 3, offset: 12),
        ])
        for slot in 0..<3 { try batch.indexRecord(at: slot) }
        #expect(batch.records.map(\.tapeStart) == [0, 3, 6])
        #expect(batch.records.map(\.tapeEnd) == [3, 6, 7])
        #expect(batch.isIndexed)
        batch.withView { view in
            #expect(view.number(view.element(of: 3, at: -1)!) == .int(3))
            #expect(view.string(6) == "x")
        }
    }

    @Test func errorLeavesTapeAndSlotUntouched() throws {
        let text = Array(#"{"a":1}{"b":[1,2,}"#.utf8)
        var batch = Batch(file: 0, index: 0, bytes: text, records: [
            RecordSlot(start: 0, end: 7, line: 1, offset: 0),
            RecordSlot(start: 7, end: text.count, line: 2, offset: 7),
        ])
        try batch.indexRecord(at: 0)
        #expect(throws: JSONSyntaxError.self) { try batch.indexRecord(at: 1) }
        #expect(batch.tape.count == 3)
        #expect(batch.records[1].tapeStart == -1)
    }

    @Test(arguments: [
        ("", "empty input, expected a JSON value", 0),
        ("   ", "empty input, expected a JSON value", 3),
        ("{\"a\" 1}", "expected ':' after an object key, found '1'", 5),
        ("[1,]", "unexpected ']', expected a value", 3),
        ("{\"a\":1,}", "trailing comma before '}'", 7),
        ("[1 2]", "expected ',' or ']' after an array element, found '2'", 3),
        ("01", "leading zero in a number", 0),
        ("1.", "expected a digit after the decimal point", 2),
        ("\"a\tb\"", "control character U+0009 in a string must be escaped", 2),
        ("\"\\x\"", "invalid escape '\\x' in a string", 1),
        ("\"abc", "unterminated string", 0),
        ("tru", "invalid literal, expected 'true'", 0),
        ("{} x", "unexpected 'x' after the JSON value", 3),
        ("[", "unexpected end of input, expected a value", 1),
    ])
    func errorMessages(_ text: String, _ message: String, _ offset: Int) {
        let error = syntaxError(Array(text.utf8))
        #expect(error == JSONSyntaxError(message: message, offset: offset))
    }

    @Test func offsetIsRelativeToRecordStart() {
        var tape: [TapeEntry] = []
        let text = Array("xxxx[1,,2]".utf8)
        #expect(throws: JSONSyntaxError(message: "unexpected ',', expected a value", offset: 3)) {
            _ = try text.withUnsafeBufferPointer { buffer throws(JSONSyntaxError) in
                try JSONIndexer.index(buffer, start: 4, end: buffer.count, maxDepth: 8, into: &tape)
            }
        }
    }

    @Test func invalidUTF8IsRejected() {
        for bad: [UInt8] in [[0x22, 0xFF, 0x22], [0x22, 0xC0, 0xAF, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0xE2, 0x82, 0x22], [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22]] {
            #expect(syntaxError(bad)?.message == "invalid UTF-8 in a string", "\(bad)")
        }
        // Long ASCII runs go through the eight-byte path; the bad byte is still found.
        let long = Array("\"abcdefghijklmnopqrstuvwxyz".utf8) + [0x80] + Array("abcdefgh\"".utf8)
        #expect(syntaxError(long) == JSONSyntaxError(message: "invalid UTF-8 in a string", offset: 27))
    }

    @Test func depthLimitIsAnErrorNotACrash() {
        let deep = [UInt8](repeating: UInt8(ascii: "["), count: 100_000)
        #expect(syntaxError(deep, maxDepth: 256) == JSONSyntaxError(message: "nesting deeper than 256 levels", offset: 256))
        let objects = Array(String(repeating: "{\"a\":", count: 100_000).utf8)
        #expect(syntaxError(objects, maxDepth: 1000)?.message == "nesting deeper than 1000 levels")
        let exact = Array((String(repeating: "[", count: 5) + String(repeating: "]", count: 5)).utf8)
        #expect(syntaxError(exact, maxDepth: 5) == nil)
        #expect(syntaxError(exact, maxDepth: 4) != nil)
    }
}
