import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

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

@Suite struct JSONTruncationTests {
    @Test func everyTruncationIsRejected() {
        let text = Array(#"{"a":[1,-2.5e3,"x\u00e9y\n",{"k":null}],"b":true,"c":"café 😀 plain ascii run"}"#.utf8)
        #expect(syntaxError(text) == nil)
        for cut in 0..<text.count {
            let error = syntaxError(Array(text[..<cut]))
            #expect(error != nil && error!.offset <= cut, "prefix of \(cut) bytes")
        }
    }
}

/// The indexer's inline path for plain keys (`JSONParser.plainKey`) must lay out exactly
/// the tape the general key scanner does, and leave every odd key to it.
@Suite struct JSONPlainKeyTests {
    /// The key nodes of object `text`, as (start, end, flags) byte spans.
    private func keySpans(_ text: String) throws -> [[UInt32]] {
        let batch = try indexedBatch(text)
        return batch.withView { view in
            view.members(of: 0).map { [view.tape[$0.key].start, view.tape[$0.key].end, UInt32(view.tape[$0.key].flags)] }
        }
    }

    @Test(arguments: [
        // Short keys at the end of the text (fewer than 8 bytes left: general path).
        (#"{"a":1}"#, [[1, 4, 0]]),
        // Keys of exactly 7 and 8 bytes, and longer than one word, followed by more text.
        (#"{"abcdefg":1,"abcdefgh":2,"abcdefghijklmnopq":3,"z":[0,0,0,0,0,0,0,0]}"#,
         [[1, 10, 0], [13, 23, 0], [26, 45, 0], [48, 51, 0]]),
        // Whitespace before ':' (general path) and after it (inline path).
        (#"{"key"  :  1, "other": 2, "x":     3}"#, [[1, 6, 0], [14, 21, 0], [26, 29, 0]]),
        // Escapes and UTF-8 in keys fall back and keep their flags.
        (#"{"a\"b":1,"caf\u00e9":2,"naïve":3, "pad": "................"}"#,
         [[1, 7, 1], [10, 21, 1], [24, 32, 0], [36, 41, 0]]),
        // DEL (0x7F) is a plain character.
        ("{\"a\u{7F}b\":1,\"pad\":\"........\"}", [[1, 6, 0], [9, 14, 0]]),
    ])
    func keysMatchTheGeneralScanner(_ text: String, _ spans: [[UInt32]]) throws {
        #expect(try keySpans(text) == spans)
        try withRoot(text) { view, root in
            var writer = JSONWriter()
            writer.write(view, node: root)
            #expect(writer.bytes == Array(text.utf8))
        }
    }

    @Test(arguments: [
        // A raw control character inside a key that the inline path would otherwise take.
        (Array("{\"ab\u{01}cdefghij\":1}".utf8), "control character U+0001 in a string must be escaped"),
        // A key that never ends.
        (Array(#"{"abcdefghijklmnop"#.utf8), "unterminated string"),
        // No ':' right after a plain key.
        (Array(#"{"abcdefgh" 1, "pad": 0000000000}"#.utf8), "expected ':' after an object key, found '1'"),
        (Array(#"{"abcdefgh",1}"#.utf8), "expected ':' after an object key, found ','"),
        // An overlong UTF-8 sequence (0xC0 0x80) in a key.
        (Array("{\"ab".utf8) + [0xC0, 0x80] + Array("cdefgh\":1}".utf8), "invalid UTF-8 in a string"),
    ])
    func oddKeysStillFail(_ bytes: [UInt8], _ message: String) {
        #expect(syntaxError(bytes)?.message == message)
    }
}
