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

    /// The inline path reads the closing quote and the `:` as one two-byte word: a key
    /// ending at the end of the text, a `:` that is its last byte, a backslash before `:`.
    @Test func keyAndColonAtTheEnd() {
        #expect(syntaxError(Array(#"{"abcdefgh""#.utf8))?.message == "unexpected end of input, expected ':' after an object key")
        #expect(syntaxError(Array(#"{"abcdefgh":"#.utf8))?.message == "unexpected end of input, expected a value")
        #expect(syntaxError(Array(#"{"abc\:1}"#.utf8))?.message == #"invalid escape '\:' in a string"#)
        #expect(syntaxError(Array(#"{"abcdefgh":1}"#.utf8)) == nil)
    }
}

/// `Batch.indexRecords` writes every record's nodes into one block of tape storage (see
/// `TapeWriter`): the tape, roots and errors must be exactly those of indexing each
/// record on its own, whether the tape starts empty or already holds nodes, and a failed
/// record must leave no nodes behind.
@Suite struct BatchIndexingTests {
    private static let texts = [
        #"{"id":1,"items":[{"sku":"a","qty":2}],"note":"x\"y"}"#,
        #"{"id":2,"bad":[1,2"#,                  // syntax error: its nodes are dropped
        #"[1,2,3]"#,                             // valid, not an object: an error line
        #"  {"id":3 , "deep":{"a":{"b":[[],{}]}}}  "#,
        #"{}"#,
        #"{"id":4,"s":"café 😀"}"#,
        #"[[[[[[[[["#,                           // as many nodes as bytes before it fails
    ]

    private func batch(_ texts: [String]) -> Batch {
        var batch = Batch(file: 0, index: 0)
        for (n, text) in texts.enumerated() {
            let start = batch.bytes.count
            batch.bytes.append(contentsOf: Array(text.utf8))
            batch.records.append(RecordSlot(start: start, end: batch.bytes.count, line: n + 1, offset: start))
        }
        return batch
    }

    /// Each record indexed on its own, in order: the tape and the surviving slots.
    private func reference(_ input: Batch) -> (tape: [TapeEntry], slots: [RecordSlot], failedLines: [Int]) {
        var tape = input.tape
        var slots: [RecordSlot] = []
        var failed: [Int] = []
        for var slot in input.records {
            if slot.tapeStart >= 0 { slots.append(slot); continue }
            let root = input.bytes.withUnsafeBufferPointer { try? JSONIndexer.index($0, start: slot.start, end: slot.end, into: &tape) }
            guard let root else { failed.append(slot.line); continue }
            slot.tapeStart = Int32(root)
            slot.tapeEnd = Int32(tape.count)
            if tape[root].kind == .object { slots.append(slot) } else { failed.append(slot.line) }
        }
        return (tape, slots, failed)
    }

    @Test func matchesIndexingEachRecordAlone() {
        var input = batch(Self.texts)
        let expected = reference(input)
        input.indexRecords(maxDepth: 64, stage: "input", kind: .parse, context: StageContext(stageName: "input", filePaths: ["f"]))
        #expect(input.tape == expected.tape)
        #expect(input.records == expected.slots)
        #expect(input.errors.map { $0.line ?? 0 } == expected.failedLines)
        #expect(input.errors.map(\.message) == [
            "invalid JSON: unexpected end of input in an array, expected ',' or ']' (byte 18 of the record)",
            "the top-level value is an array, not an object",
            "invalid JSON: unexpected end of input, expected a value (byte 9 of the record)",
        ])
    }

    /// A later stage re-indexes rewritten records after ones already on the tape.
    @Test func appendsAfterNodesAlreadyOnTheTape() {
        var input = batch(Self.texts + Self.texts.reversed())
        let context = StageContext(stageName: "input", filePaths: ["f"])
        var first = input
        first.records = Array(input.records.prefix(Self.texts.count))
        first.indexRecords(maxDepth: 64, stage: "input", kind: .parse, context: context)
        // The indexed first half stays; the second half is indexed behind it.
        input.tape = first.tape
        input.records = first.records + input.records.suffix(Self.texts.count)
        let expected = reference(input)
        input.indexRecords(maxDepth: 64, stage: "select", kind: .transform, context: context)
        #expect(!first.tape.isEmpty)
        #expect(input.tape == expected.tape)
        #expect(input.records == expected.slots)
        #expect(input.errors.map { $0.line ?? 0 } == expected.failedLines)
        #expect(input.withView { view in input.records.allSatisfy { view.kind(Int($0.tapeStart)) == .object } })
    }

    @Test func emptyRecordsFail() {
        var input = batch(["", #"{"a":1}"#])
        input.indexRecords(maxDepth: 64, stage: "input", kind: .parse, context: StageContext(stageName: "input", filePaths: ["f"]))
        #expect(input.records.count == 1 && input.errors.count == 1)
        #expect(input.errors.first?.message.hasPrefix("invalid JSON: empty input") == true)
    }
}

/// String values take the inline plain-string path (`JSONParser.plainStringEnd`) when
/// they are plain ASCII with eight readable bytes per step; everything else falls back to
/// the general scanner. Every length and every position of an odd byte, relative to the
/// 8-byte words and to the end of the text, must give the general scanner's tape.
@Suite struct JSONPlainStringValueTests {
    @Test func spansAndFlagsAtEveryLengthAndPosition() throws {
        let odd: [(text: String, escaped: Bool)] = [("\\\"", true), ("\\\\", true), ("\\u00e9", true), ("é", false), ("😀", false), ("\u{7F}", false)]
        for length in 0...17 {
            for insert in [nil] + odd.indices.map(Optional.some) {
                for position in 0...length {
                    var body = String(repeating: "a", count: length)
                    var escaped = false
                    if let insert {
                        body.insert(contentsOf: odd[insert].text, at: body.index(body.startIndex, offsetBy: position))
                        escaped = odd[insert].escaped
                    }
                    // The value at the end of the text, and followed by more text.
                    for text in ["[\"\(body)\"]", "{\"k\":\"\(body)\",\"pad\":\"................\"}"] {
                        let batch = try indexedBatch(text)
                        let bytes = Array(text.utf8)
                        let quote = bytes.firstIndex(of: UInt8(ascii: "\""))! + (text.hasPrefix("{") ? 4 : 0)
                        let node = batch.tape.first { $0.kind == .string && Int($0.start) == quote }
                        #expect(node != nil, "\(text)")
                        #expect(node.map { Int($0.end) } == quote + 2 + body.utf8.count, "\(text)")
                        #expect(node.map { $0.flags == (escaped ? TapeEntry.hasEscapes : 0) } == true, "\(text)")
                    }
                    if insert == nil { break }
                }
            }
        }
    }

    @Test(arguments: [
        (Array("[\"abcdefgh\u{01}ij\"]".utf8), "control character U+0001 in a string must be escaped"),
        (Array("[\"abcdefghijkl".utf8), "unterminated string"),
        (Array("[\"abc".utf8) + [0xC0, 0x80] + Array("defghijk\"]".utf8), "invalid UTF-8 in a string"),
        (Array("[\"abcdefgh\\x\"]".utf8), "invalid escape '\\x' in a string"),
    ])
    func oddValuesStillFail(_ bytes: [UInt8], _ message: String) {
        #expect(syntaxError(bytes)?.message == message)
    }
}
