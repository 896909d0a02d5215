import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// The production parser (its compact-text fast paths: the expected byte tested before
/// any whitespace skip, keys and strings inline, the container's kind kept in a register,
/// 16-byte nodes written from one cursor) against the parser as it was before them
/// (``ReferenceJSON``, frozen in the tests): the same nodes, and the same error message
/// and offset, for bench-shaped records, the same records with whitespace everywhere, and
/// thousands of damaged variants (bytes dropped, inserted, replaced, texts cut), each
/// indexed with bytes after its end in the buffer (so a read past `end` would show).
@Suite struct JSONParserDifferentialTests {
    struct Generator {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(bound))
        }
    }

    /// A record shaped like the NDJSON bench's orders: compact, short keys and strings,
    /// small integers, 2-decimal numbers, a nested object and an array of small objects,
    /// with now and then an escape, a non-ASCII string, a literal or a longer string.
    static func order(_ n: Int, _ g: inout Generator) -> String {
        let notes = ["", "fragile: glass", #"say \"hi\""#, "caf\u{E9}", String(repeating: "x", count: g.next(40)), "tab\\there"]
        var items: [String] = []
        for _ in 0...g.next(5) {
            items.append(#"{"sku":"SKU-\#(g.next(999_999))","qty":\#(g.next(9) + 1),"price":\#(g.next(300)).\#(g.next(90) + 10)}"#)
        }
        let total = g.next(3) == 0 ? "\(g.next(5000))" : "\(g.next(5000)).\(g.next(90) + 10)"
        let extra = [#","gift":true"#, #","coupon":null"#, #","flag":false"#, #","e":-1.5e+3"#, #","z":0"#, ""][g.next(6)]
        return #"{"id":\#(n),"ts":"2026-11-20T18:24:10Z","status":"\#(["paid", "pending", "cancelled"][g.next(3)])","customer":{"id":"c-\#(g.next(300_000))","country":"FR","name":"Ana Silva"},"items":[\#(items.joined(separator: ","))],"total":\#(total),"currency":"EUR","notes":"\#(notes[g.next(notes.count)])"\#(extra),"tags":[\#(g.next(2) == 0 ? "" : #""a",[],{},[1,[2,{"k":[]}]]"#)]}"#
    }

    /// `text` with a random run of JSON whitespace before and after some of its brackets,
    /// commas and colons (outside strings), and around the whole text.
    static func spaced(_ text: [UInt8], _ g: inout Generator) -> [UInt8] {
        let structural = Set(Array("{}[],:".utf8))
        func space(_ out: inout [UInt8], _ g: inout Generator) {
            if g.next(2) == 0 { for _ in 0...g.next(3) { out.append([0x20, 0x09, 0x0A, 0x0D][g.next(4)]) } }
        }
        var out: [UInt8] = []
        var inString = false
        var escaped = false
        space(&out, &g)
        for c in text {
            let isStructural = !inString && structural.contains(c)
            if isStructural { space(&out, &g) }
            out.append(c)
            if isStructural { space(&out, &g) }
            if inString {
                if escaped { escaped = false } else if c == 0x5C { escaped = true } else if c == 0x22 { inString = false }
            } else if c == 0x22 {
                inString = true
            }
        }
        space(&out, &g)
        return out
    }

    /// Compares the two parsers on `record`, followed in its buffer by `tail`.
    static func same(_ record: [UInt8], tail: [UInt8], maxDepth: Int) -> Bool {
        let buffer = record + tail
        let want = ReferenceJSON.index(buffer, 0..<record.count, maxDepth: maxDepth)
        var tape: [TapeEntry] = []
        let got: Result<[TapeEntry], JSONSyntaxError>
        do {
            _ = try buffer.withUnsafeBufferPointer { bytes throws(JSONSyntaxError) in
                try JSONIndexer.index(bytes, start: 0, end: record.count, maxDepth: maxDepth, into: &tape)
            }
            got = .success(tape)
        } catch {
            got = .failure(error)
        }
        switch (want, got) {
        case (.success(let a), .success(let b)): return a == b
        case (.failure(let a), .failure(let b)): return a == b
        default: return false
        }
    }

    func check(_ records: [[UInt8]], _ family: String, seed: UInt64) {
        var g = Generator(state: seed)
        let tails: [[UInt8]] = [[], Array(",".utf8), Array("]".utf8), Array("}".utf8), Array("\"1 ".utf8), Array(":\"a\"}".utf8)]
        var mismatches = 0
        for record in records {
            let depth = [JSONIndexer.defaultMaxDepth, 2, 3][g.next(3)]
            if !Self.same(record, tail: tails[g.next(tails.count)], maxDepth: depth) {
                Issue.record("\(family): \(String(decoding: record, as: UTF8.self).debugDescription), maxDepth \(depth)")
                mismatches += 1
                if mismatches > 5 { return }
            }
        }
    }

    static let seeds: [UInt64] = [1, 2, 3]

    static func orders(_ seed: UInt64, count: Int = 400) -> [[UInt8]] {
        var g = Generator(state: seed)
        return (0..<count).map { Array(order($0, &g).utf8) }
    }

    @Test(arguments: seeds) func benchShapedRecords(_ seed: UInt64) {
        let records = Self.orders(seed)
        #expect(records.allSatisfy { syntaxError($0) == nil })
        check(records, "orders", seed: seed)
    }

    @Test(arguments: seeds) func whitespaceEverywhere(_ seed: UInt64) {
        var g = Generator(state: seed &+ 100)
        let records = Self.orders(seed).map { Self.spaced($0, &g) }
        #expect(records.allSatisfy { syntaxError($0) == nil })
        check(records, "spaced orders", seed: seed)
    }

    @Test(arguments: seeds) func damagedRecords(_ seed: UInt64) {
        var g = Generator(state: seed &+ 200)
        let alphabet = Array(" \t\n\r,:[]{}\"\\0123456789-+.eEtrufalsnx".utf8) + [0x00, 0x1F, 0x7F, 0x80, 0xC3, 0xA9, 0xFF]
        var records: [[UInt8]] = []
        for record in Self.orders(seed, count: 200) + Self.orders(seed, count: 100).map({ Self.spaced($0, &g) }) {
            for _ in 0..<10 {
                var r = record
                for _ in 0...g.next(3) {
                    let at = g.next(r.count + 1)
                    switch g.next(4) {
                    case 0: if at < r.count { r.remove(at: at) }
                    case 1: r.insert(alphabet[g.next(alphabet.count)], at: at)
                    case 2: if at < r.count { r[at] = alphabet[g.next(alphabet.count)] }
                    default: r = Array(r[0..<at])
                    }
                }
                records.append(r)
            }
        }
        let invalid = records.filter { syntaxError($0) != nil }.count
        #expect(invalid > records.count / 2 && invalid < records.count, "\(invalid) of \(records.count) invalid")
        check(records, "damaged orders", seed: seed)
    }

    @Test func smallTextsAndScalars() {
        let texts = [
            "", " ", "0", "-", "-0", "01", "1.", "1.5", "1e", "1e+", "1E-2", "-12.50e3", "true", "tru", "truex", "false",
            "fals", "null", "nul", "\"\"", "\"a", "\"\\u12\"", "[]", "[ ]", "[", "[1", "[1,", "[1,]", "[1 2]", "{}", "{ }",
            "{", "{\"a\"", "{\"a\":", "{\"a\":1", "{\"a\":1,", "{\"a\":1,}", "{\"a\" :1 , \"b\": [ ] }", "{1:2}", "{\"a\"1}",
            "[[[]]]", "[[[[1]]]]", "{\"a\":{\"b\":{\"c\":{}}}}", "[{}, {\"a\":[]}, []]", "\u{FEFF}{}", " {} x", "{}}", "[]]",
            "[\"\\\"\",\"\\\\\",\"\\/\"]", "{\"k\":\"v\"} ", "\t[1]\r\n", "[tru]", "[nulll]", "[-]", "[.5]", "[1.e3]",
        ]
        check(texts.map { Array($0.utf8) }, "small texts", seed: 9)
    }

    /// Nodes are 16 bytes, and each kind keeps its flags or count apart from its kind.
    @Test func nodeLayout() {
        #expect(MemoryLayout<TapeEntry>.size == 16 && MemoryLayout<TapeEntry>.stride == 16)
        for kind in [JSONKind.null, .false, .true, .number, .string, .array, .object] {
            let isContainer = kind == .array || kind == .object
            var e = TapeEntry(kind: kind, flags: 1, count: TapeEntry.maxCount, start: 3, end: 9, next: 4)
            #expect(e.kind == kind && e.start == 3 && e.end == 9 && e.next == 4)
            #expect(e.flags == (isContainer ? 0 : 1) && e.count == (isContainer ? TapeEntry.maxCount : 0))
            e.count = 7
            e.flags = 0
            #expect(e.kind == kind && e.count == (isContainer ? 7 : 0) && e.flags == 0)
            e.kind = .null
            #expect(e.kind == .null && e.count == 0)
        }
    }
}
