import Foundation
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// The string kernels (``JSONStringScan``) and the indexer run with each of them.
///
/// On x86_64 the indexer uses the SSE2 kernel (16 bytes per step) and other architectures
/// the SWAR one (8 bytes): both are tested here on every machine that can run them, the
/// kernels against a byte-by-byte reference and the whole indexer (tapes, error messages,
/// offsets) kernel against kernel, including JSONTestSuite, and against ``ByteStringScan``
/// (byte by byte, no wide steps). UTF-8 validation is checked against the standard
/// library's (``StringKernels/utf8Length(_:_:end:)``), not against the project's own code.
enum StringKernels {
    /// One string kernel, named.
    enum Kernel: Sendable {
        case swar
        #if arch(x86_64)
        case sse2
        #endif
        /// Byte by byte (the indexer's reference).
        case bytes

        var name: String {
            switch self {
            case .bytes: "byte-by-byte"
            case .swar: "SWAR"
            #if arch(x86_64)
            case .sse2: "SSE2"
            #endif
            }
        }

        func stop(_ p: UnsafePointer<UInt8>, from: Int, end: Int, limit: Int) -> Int {
            switch self {
            case .bytes: ByteStringScan.stop(p, from: from, end: end, limit: limit)
            case .swar: SWARStringScan.stop(p, from: from, end: end, limit: limit)
            #if arch(x86_64)
            case .sse2: SSE2StringScan.stop(p, from: from, end: end, limit: limit)
            #endif
            }
        }

        /// The entry point the parser uses: `stepEnd` computed once per text, as
        /// ``JSONParser`` does.
        func stop(_ p: UnsafePointer<UInt8>, from: Int, end: Int, limit: Int, stepEnd: Int) -> Int {
            switch self {
            case .bytes: ByteStringScan.stop(p, from: from, end: end, limit: limit, stepEnd: stepEnd)
            case .swar: SWARStringScan.stop(p, from: from, end: end, limit: limit, stepEnd: stepEnd)
            #if arch(x86_64)
            case .sse2: SSE2StringScan.stop(p, from: from, end: end, limit: limit, stepEnd: stepEnd)
            #endif
            }
        }
    }

    /// The kernels of the ``JSONStringScan`` contract.
    #if arch(x86_64)
    static let all: [Kernel] = [.swar, .sse2]
    #else
    static let all: [Kernel] = [.swar]
    #endif
    /// What the indexer runs with: the byte-by-byte reference first, then every kernel.
    static let indexers: [Kernel] = [.bytes] + all

    /// The length of the well-formed UTF-8 sequence at `bytes[j]` ending by `end`, or 0,
    /// decided by the standard library's UTF-8 validation (not by the project's code).
    static func utf8Length(_ bytes: [UInt8], _ j: Int, end: Int) -> Int {
        let b0 = bytes[j]
        let n = (0xC0...0xDF).contains(b0) ? 2 : (0xE0...0xEF).contains(b0) ? 3 : (0xF0...0xF7).contains(b0) ? 4 : 0
        guard n > 0, j + n <= end else { return 0 }
        return String(validating: bytes[j..<(j + n)], as: UTF8.self) != nil ? n : 0
    }

    /// What a kernel's `stop` must answer: the first special byte in `bytes[from..<end]`, or `end`.
    static func reference(_ bytes: [UInt8], from: Int, end: Int) -> Int {
        var j = from
        while j < end {
            let c = bytes[j]
            if c == 0x22 || c == 0x5C || c < 0x20 || c >= 0x80 { return j }
            j += 1
        }
        return end
    }

    /// Where the parser must report a string body `bytes[from..<end]` (no escapes in it):
    /// the first quote, backslash, control character or byte ≥ 0x80 that does not start a
    /// well-formed UTF-8 sequence within it; or `end`.
    static func utf8Reference(_ bytes: [UInt8], from: Int, end: Int) -> Int {
        var j = from
        while j < end {
            let c = bytes[j]
            if c == 0x22 || c == 0x5C || c < 0x20 { return j }
            if c >= 0x80 {
                let n = utf8Length(bytes, j, end: end)
                if n == 0 { return j }
                j += n
            } else {
                j += 1
            }
        }
        return end
    }

    /// A kernel's answer clamped to `end` (any index ≥ `end` means "none before end").
    /// `limit` bytes of `bytes` are readable; the rest of the array is not passed on.
    static func answer(_ kernel: Kernel, _ bytes: [UInt8], from: Int, end: Int, limit: Int) -> Int {
        // A copy of exactly `limit` bytes, so a read past `limit` would leave the allocation.
        let readable = Array(bytes[0..<limit])
        return readable.withUnsafeBufferPointer { buffer in
            let p = buffer.baseAddress!
            let answer = Swift.min(kernel.stop(p, from: from, end: end, limit: limit), end)
            // Both entry points give the same answer, `stepEnd` computed as the parser does.
            let parserAnswer = Swift.min(kernel.stop(p, from: from, end: end, limit: limit, stepEnd: JSONParser(p: p, start: 0, end: end, limit: limit, maxDepth: 1).stepEnd), end)
            #expect(parserAnswer == answer, "\(kernel.name): from \(from), end \(end), limit \(limit): \(parserAnswer) with stepEnd, \(answer) without")
            return answer
        }
    }

    /// Indexes `bytes[range]` (the whole of `bytes` readable) with `kernel`.
    static func index(_ kernel: Kernel, _ bytes: [UInt8], _ range: Range<Int>, maxDepth: Int = JSONIndexer.defaultMaxDepth) -> Result<[TapeEntry], JSONSyntaxError> {
        switch kernel {
        case .bytes: index(ByteStringScan.self, bytes, range, maxDepth: maxDepth)
        case .swar: index(SWARStringScan.self, bytes, range, maxDepth: maxDepth)
        #if arch(x86_64)
        case .sse2: index(SSE2StringScan.self, bytes, range, maxDepth: maxDepth)
        #endif
        }
    }

    static func index<Scan: JSONStringScan>(_ scan: Scan.Type, _ bytes: [UInt8], _ range: Range<Int>, maxDepth: Int) -> Result<[TapeEntry], JSONSyntaxError> {
        var tape: [TapeEntry] = []
        do {
            _ = try bytes.withUnsafeBufferPointer { buffer throws(JSONSyntaxError) in
                try JSONIndexer.index(buffer, start: range.lowerBound, end: range.upperBound, maxDepth: maxDepth, into: &tape, scan: scan)
            }
            return .success(tape)
        } catch {
            return .failure(error)
        }
    }

    /// The result with every kernel; they must all be equal (checked) to the byte-by-byte
    /// reference's, and equal to the result with the record alone in its buffer (nothing
    /// readable past its end).
    static func agreed(_ bytes: [UInt8], _ range: Range<Int>, maxDepth: Int = JSONIndexer.defaultMaxDepth, _ note: String = "") -> Result<[TapeEntry], JSONSyntaxError> {
        let alone = Array(bytes[range])
        // Tape offsets of the record alone are shifted by `range.lowerBound`.
        func shifted(_ result: Result<[TapeEntry], JSONSyntaxError>) -> Result<[TapeEntry], JSONSyntaxError> {
            result.map { tape in
                tape.map { e in
                    var e = e
                    e.start += UInt32(range.lowerBound)
                    e.end += UInt32(range.lowerBound)
                    return e
                }
            }
        }
        let first = index(indexers[0], bytes, range, maxDepth: maxDepth)
        for kernel in indexers {
            let inBuffer = index(kernel, bytes, range, maxDepth: maxDepth)
            let onItsOwn = shifted(index(kernel, alone, 0..<alone.count, maxDepth: maxDepth))
            #expect(inBuffer == first, "\(kernel.name) differs from \(indexers[0].name): \(note)")
            #expect(onItsOwn == first, "\(kernel.name), record alone in its buffer, differs: \(note)")
        }
        return first
    }
}

/// The string kernel's contract byte by byte, with no wide step: the indexer's reference.
enum ByteStringScan: JSONStringScan {
    static func stop(_ p: UnsafePointer<UInt8>, from: Int, end: Int, limit: Int) -> Int {
        var j = from
        while j < end {
            let c = p[j]
            if c == 0x22 || c == 0x5C || c < 0x20 || c >= 0x80 { return j }
            j += 1
        }
        return end
    }
}

/// UTF-8 sequences for the kernel and indexer tests.
enum UTF8Samples {
    /// Well-formed sequences, the edges of every range of RFC 3629's table among them.
    static let wellFormed: [[UInt8]] = [
        [0xC2, 0x80], [0xC3, 0xA9], [0xDF, 0xBF],
        [0xE0, 0xA0, 0x80], [0xE0, 0xBF, 0xBF], [0xE1, 0x80, 0x80], [0xE2, 0x82, 0xAC], [0xEC, 0xBF, 0xBF],
        [0xED, 0x80, 0x80], [0xED, 0x9F, 0xBF], [0xEE, 0x80, 0x80], [0xEF, 0xBF, 0xBD], [0xEF, 0xBF, 0xBF],
        [0xF0, 0x90, 0x80, 0x80], [0xF0, 0x9F, 0x98, 0x80], [0xF0, 0xBF, 0xBF, 0xBF], [0xF1, 0x80, 0x80, 0x80],
        [0xF3, 0xBF, 0xBF, 0xBF], [0xF4, 0x80, 0x80, 0x80], [0xF4, 0x8F, 0xBF, 0xBF],
    ]
    /// Every class of ill-formed UTF-8 (truncation by the end of the text is made by the
    /// tests from the well-formed ones).
    static let illFormed: [(bytes: [UInt8], note: String)] = [
        ([0x80], "lone continuation 0x80"), ([0xBF], "lone continuation 0xBF"), ([0x80, 0x80], "two continuations"),
        ([0xC0, 0x80], "overlong 2-byte (0xC0)"), ([0xC1, 0xBF], "overlong 2-byte (0xC1)"),
        ([0xE0, 0x80, 0x80], "overlong 3-byte"), ([0xE0, 0x9F, 0xBF], "overlong 3-byte, highest"),
        ([0xED, 0xA0, 0x80], "encoded surrogate U+D800"), ([0xED, 0xAF, 0xBF], "encoded surrogate U+DBFF"),
        ([0xED, 0xB0, 0x80], "encoded surrogate U+DC00"), ([0xED, 0xBF, 0xBF], "encoded surrogate U+DFFF"),
        ([0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80], "encoded surrogate pair"),
        ([0xF0, 0x80, 0x80, 0x80], "overlong 4-byte"), ([0xF0, 0x8F, 0xBF, 0xBF], "overlong 4-byte, highest"),
        ([0xF4, 0x90, 0x80, 0x80], "U+110000"), ([0xF4, 0xBF, 0xBF, 0xBF], "past U+10FFFF"),
        ([0xF5, 0x80, 0x80, 0x80], "lead 0xF5"), ([0xF7, 0xBF, 0xBF, 0xBF], "lead 0xF7"),
        ([0xF8, 0x88, 0x80, 0x80, 0x80], "5-byte form"), ([0xFC, 0x84, 0x80, 0x80, 0x80, 0x80], "6-byte form"),
        ([0xFE], "byte 0xFE"), ([0xFF], "byte 0xFF"),
        ([0xC3, 0x41], "2-byte lead, then ASCII"), ([0xC3, 0xC3, 0xA9], "2-byte lead, then a lead"),
        ([0xC3, 0x22], "2-byte lead, then a quote"), ([0xE2, 0x82, 0x5C], "3-byte lead, then a backslash"),
        ([0xE2, 0x41, 0x82], "3-byte, second byte ASCII"), ([0xE2, 0x82, 0x41], "3-byte, third byte ASCII"),
        ([0xE2, 0x82, 0xC3, 0xA9], "3-byte, third byte a lead"), ([0xF0, 0x9F, 0x98, 0x41], "4-byte, fourth byte ASCII"),
        ([0xF0, 0x9F, 0x41, 0x80], "4-byte, third byte ASCII"), ([0xF0, 0x41, 0x98, 0x80], "4-byte, second byte ASCII"),
        ([0xF0, 0x9F, 0x98, 0x0A], "4-byte, fourth byte a newline"), ([0xE2, 0x82, 0xAC, 0x80], "well-formed, then a stray continuation"),
    ]
}

extension Result where Success == [TapeEntry], Failure == JSONSyntaxError {
    var error: JSONSyntaxError? { if case .failure(let e) = self { e } else { nil } }
    var tape: [TapeEntry]? { try? get() }
}

@Suite struct JSONStringKernelTests {
    /// Bytes the kernels must stop at, and bytes just beside those classes that they must not.
    static let special: [UInt8] = [0x22, 0x5C, 0x00, 0x01, 0x0A, 0x1F, 0x80, 0xBF, 0xC3, 0xE2, 0xF0, 0xFF]
    static let plain: [UInt8] = [0x20, 0x21, 0x23, 0x5B, 0x5D, 0x7E, 0x7F, 0x61]

    /// Every start, every position of one special byte (before, at and after `end`), every
    /// end around it, with the readable limit at `end` and beyond it: 16-byte and 8-byte
    /// steps, partial steps and the byte-by-byte tail all meet every case.
    @Test func findTheFirstSpecialByteWhereverItIs() {
        let length = 70
        for kernel in StringKernels.all {
            for byte in Self.special {
                for from in [0, 1, 7, 8, 15, 16, 17, 31, 32, 33, 47, 63, 64] {
                    for position in from..<length {
                        var bytes = [UInt8](repeating: UInt8(ascii: "a"), count: length)
                        bytes[position] = byte
                        for end in Set([from, position, position + 1, Swift.min(position + 16, length), length]) where end >= from {
                            for limit in Set([end, Swift.min(end + 1, length), Swift.min(end + 15, length), length]) {
                                let got = StringKernels.answer(kernel, bytes, from: from, end: end, limit: limit)
                                let want = StringKernels.reference(bytes, from: from, end: end)
                                #expect(got == want, "\(kernel.name): byte \(byte) at \(position), from \(from), end \(end), limit \(limit)")
                                if got != want { return }
                            }
                        }
                    }
                }
            }
        }
    }

    @Test func skipPlainBytesAndStopAtEnd() {
        for kernel in StringKernels.all {
            for byte in Self.plain {
                for length in 0...40 {
                    let bytes = [UInt8](repeating: byte, count: length)
                    for from in 0...length {
                        #expect(StringKernels.answer(kernel, bytes, from: from, end: length, limit: length) == length, "\(kernel.name): byte \(byte), length \(length), from \(from)")
                    }
                }
            }
        }
    }

    /// One well-formed or ill-formed UTF-8 sequence at every position relative to the 8- and
    /// 16-byte steps, cut by `end` at every byte of it, followed by plain text or by a stop
    /// byte: the kernel stops at its first byte (the parser validates from there).
    @Test func stopAtTheFirstByteOfEveryNonASCIISequence() {
        let length = 56
        let sequences = UTF8Samples.wellFormed + UTF8Samples.illFormed.map(\.bytes)
        for kernel in StringKernels.all {
            for sequence in sequences {
                for follower in [nil, 0x22, 0x5C, 0x0A] as [UInt8?] {
                    for from in [0, 1, 15, 16, 17] {
                        for position in from..<(length - sequence.count - 1) {
                            var bytes = [UInt8](repeating: UInt8(ascii: "b"), count: length)
                            bytes.replaceSubrange(position..<(position + sequence.count), with: sequence)
                            if let follower { bytes[position + sequence.count] = follower }
                            let ends = Set([position] + (1...(sequence.count + 1)).map { position + $0 } + [Swift.min(position + 16, length), length])
                            for end in ends {
                                for limit in Set([end, Swift.min(end + 1, length), Swift.min(end + 15, length), length]) {
                                    let got = StringKernels.answer(kernel, bytes, from: from, end: end, limit: limit)
                                    let want = StringKernels.reference(bytes, from: from, end: end)
                                    #expect(got == want, "\(kernel.name): \(sequence) at \(position), then \(String(describing: follower)), from \(from), end \(end), limit \(limit)")
                                    if got != want { return }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The first of several special bytes in one step, whatever follows it.
    @Test func reportTheLowestOfSeveral() {
        for kernel in StringKernels.all {
            for first in 0..<32 {
                var bytes = [UInt8](repeating: UInt8(ascii: "x"), count: 48)
                for k in stride(from: first, to: 48, by: 3) { bytes[k] = Self.special[k % Self.special.count] }
                #expect(StringKernels.answer(kernel, bytes, from: 0, end: 48, limit: 48) == first, "\(kernel.name): first at \(first)")
            }
        }
    }
}

/// The indexer with each kernel: same tapes, same errors at the same offsets.
@Suite struct JSONIndexerKernelTests {
    /// Odd things inside a string: escapes, UTF-8, raw control characters, bad bytes.
    static let inserts: [(text: [UInt8], note: String)] = [
        (Array(#"\""#.utf8), "escaped quote"), (Array(#"\\"#.utf8), "escaped backslash"),
        (Array(#"\n"#.utf8), "escape"), (Array(#"\u00e9"#.utf8), "\\u escape"),
        (Array(#"\ud83d\ude00"#.utf8), "surrogate pair"), (Array("é".utf8), "2-byte UTF-8"),
        (Array("€".utf8), "3-byte UTF-8"), (Array("😀".utf8), "4-byte UTF-8"),
        ([0x7F], "DEL (allowed)"), ([0x01], "raw control character"), ([0x0A], "raw newline"),
        ([0x1F], "raw U+001F"), ([0xC0, 0x80], "overlong UTF-8"), ([0xED, 0xA0, 0x80], "encoded surrogate"),
        ([0xF4, 0x90, 0x80, 0x80], "past U+10FFFF"), ([0xC3], "truncated UTF-8"), ([0xFF], "byte 0xFF"),
        (Array(#"\x"#.utf8), "bad escape"), (Array(#"\u12"#.utf8), "short \\u escape"), ([0x5C], "lone backslash"),
        (Array("é€😀ü".utf8), "UTF-8 of every length"), (Array("李雷\\n".utf8), "UTF-8, then an escape"),
        (Array("\\tZoë".utf8), "an escape, then UTF-8"),
    ] + UTF8Samples.wellFormed.map { ($0, "well-formed \($0)") } + UTF8Samples.illFormed.map { ($0.bytes, $0.note) }
        + [[0xC3], [0xE2, 0x82], [0xF0, 0x9F], [0xF0, 0x9F, 0x98]].map { ($0, "truncated \($0)") }

    /// A key and a value string of the lengths around the 8-, 16- and 32-byte steps, every
    /// placement of one odd thing, the string at the end of the record or followed by more,
    /// the record followed in its buffer by text with quotes (read past `end`, never used).
    @Test func stringsAcrossBlocksGiveTheSameTape() {
        let after: [UInt8] = Array("\n{\"x\":\"y\"}\n\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"".utf8)
        var errors = 0
        for length in [0, 1, 7, 8, 14, 15, 16, 17, 30, 31, 32, 33] {
            for insert in [nil] + Self.inserts.indices.map(Optional.some) {
                for position in (insert == nil ? [0] : Array(0...length)) {
                    var body = [UInt8](repeating: UInt8(ascii: "a"), count: length)
                    if let insert { body.insert(contentsOf: Self.inserts[insert].text, at: position) }
                    let records: [[UInt8]] = [
                        Array(#"{""#.utf8) + body + Array(#"":1}"#.utf8),
                        Array(#"{"k":""#.utf8) + body + Array(#""}"#.utf8),
                        Array(#"[""#.utf8) + body + Array(#"","tail"]"#.utf8),
                        Array(#"""#.utf8) + body + Array(#"""#.utf8),
                        Array(#"""#.utf8) + body,                                   // unterminated at the end of the record
                    ]
                    for record in records {
                        let note = "\(insert.map { Self.inserts[$0].note } ?? "plain") at \(position) of \(length): \(String(decoding: record, as: UTF8.self).debugDescription)"
                        for lead in [3] {  // and at 0: `agreed` also indexes the record alone
                            let bytes = [UInt8](repeating: 0x20, count: lead) + record + after
                            let result = StringKernels.agreed(bytes, lead..<(lead + record.count), note)
                            if result.error != nil { errors += 1 }
                        }
                    }
                }
            }
        }
        #expect(errors > 0)
    }

    /// Known answers, so both kernels are not merely equal but right.
    @Test(arguments: [
        (#"{"a":"0123456789abcdef0123456789abcdef"}"#, nil as String?, 0),
        (#"{"a":"0123456789abcde\"f0123456789abcdef"}"#, nil, 0),
        ("{\"a\":\"0123456789abcdef\u{01}\"}", "control character U+0001 in a string must be escaped", 22),
        ("\"0123456789abcdef0123456789abcde", "unterminated string", 0),
        ("[\"0123456789abcd\\", "unterminated string", 16),
        ("[\"0123456789abcdef0123456789ab\\q\"]", "invalid escape '\\q' in a string", 30),
        ("\"x\"", nil, 0),
        ("\"\"", nil, 0),
    ] as [(String, String?, Int)])
    func knownAnswers(_ text: String, _ message: String?, _ offset: Int) {
        let bytes = Array(text.utf8)
        let result = StringKernels.agreed(bytes, 0..<bytes.count, text)
        #expect(result.error?.message == message, "\(text)")
        if message != nil { #expect(result.error?.offset == offset, "\(text)") }
    }

    /// Every sample sequence, well-formed or not, and every well-formed one cut short, at
    /// every position of a string around the 16-byte steps: the indexer accepts exactly
    /// what the standard library's UTF-8 validation accepts, and reports the rest as
    /// "invalid UTF-8 in a string" at the first byte that is not well-formed.
    @Test func utf8ValidityIsTheStandardLibrarys() {
        let truncated = UTF8Samples.wellFormed.flatMap { s in (1..<s.count).map { Array(s[0..<$0]) } }
        var accepted = 0, rejected = 0
        for sequence in UTF8Samples.wellFormed + UTF8Samples.illFormed.map(\.bytes) + truncated {
            for length in [0, 1, 13, 14, 15, 16, 17, 30, 31, 32] {
                for position in 0...length {
                    var body = [UInt8](repeating: UInt8(ascii: "c"), count: length)
                    body.insert(contentsOf: sequence, at: position)
                    for closed in [true, false] {
                        let record = [0x22] + body + (closed ? [0x22] : [])
                        let result = StringKernels.agreed(record, 0..<record.count, "\(sequence) at \(position) of \(length), closed \(closed)")
                        let firstBad = StringKernels.utf8Reference(body, from: 0, end: body.count)
                        if firstBad == body.count {
                            #expect(String(validating: body, as: UTF8.self) != nil)
                            #expect(result.error?.message == (closed ? nil : "unterminated string"), "\(sequence) at \(position) of \(length)")
                            accepted += 1
                        } else {
                            #expect(String(validating: body, as: UTF8.self) == nil)
                            #expect(result.error?.message == "invalid UTF-8 in a string", "\(sequence) at \(position) of \(length)")
                            #expect(result.error?.offset == 1 + firstBad, "\(sequence) at \(position) of \(length)")
                            rejected += 1
                        }
                    }
                }
            }
        }
        #expect(accepted > 1000 && rejected > 1000)
    }

    /// Text packed with sequences of every length (several in one 16-byte step, steps
    /// starting inside them) indexes whole; an ill-formed byte or a control character put
    /// at any character boundary is reported there.
    @Test func packedUTF8AndOneBadByteAnywhere() {
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        func next(_ bound: Int) -> Int {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return Int(state % UInt64(bound))
        }
        for round in 0..<30 {
            var text: [UInt8] = [], boundaries: [Int] = []
            while text.count < 72 {
                boundaries.append(text.count)
                if next(3) == 0 { text.append(UInt8(ascii: "a") + UInt8(next(26))) } else { text += UTF8Samples.wellFormed[next(UTF8Samples.wellFormed.count)] }
            }
            let record = Array(#"{"k":""#.utf8) + text + Array(#"","n":1}"#.utf8)
            #expect(StringKernels.agreed(record, 0..<record.count, "round \(round)").error == nil)
            for b in boundaries {
                for (byte, message) in [(0xC0, "invalid UTF-8 in a string"), (0x80, "invalid UTF-8 in a string"), (0x01, "control character U+0001 in a string must be escaped")] as [(UInt8, String)] {
                    var bad = record
                    bad.insert(byte, at: 6 + b)
                    let result = StringKernels.agreed(bad, 0..<bad.count, "round \(round), \(byte) at \(b)")
                    #expect(result.error?.message == message && result.error?.offset == 6 + b, "round \(round), \(byte) at \(b)")
                }
            }
        }
    }

    /// Invalid UTF-8 is reported where it starts, with the message of the general path, and
    /// a string's escape flag does not depend on non-ASCII text in it.
    @Test(arguments: [
        (Array(#"{"name":"Zoë Müller","b":"李雷"}"#.utf8), nil as String?, 0),
        (Array(#"{"a":"0123456789abcde"#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8), "invalid UTF-8 in a string", 21),
        (Array(#"["0123456789abcdé"#.utf8) + [0xED, 0xA0, 0x80] + Array(#""]"#.utf8), "invalid UTF-8 in a string", 18),
        (Array(#"["€€€€€"#.utf8) + [0xF4, 0x90, 0x80, 0x80] + Array(#""]"#.utf8), "invalid UTF-8 in a string", 17),
        (Array(#"["😀😀😀"#.utf8) + [0xE0, 0x9F, 0xBF] + Array(#""]"#.utf8), "invalid UTF-8 in a string", 14),
        (Array(#"{"é":1,"#.utf8) + [0x22, 0xF0, 0x9F, 0x98], "invalid UTF-8 in a string", 9),
        (Array(#""é"#.utf8) + [0xC3], "invalid UTF-8 in a string", 3),
        (Array(#""0123456789abcdeé"#.utf8), "unterminated string", 0),
        (Array("\"aé\u{01}\"".utf8), "control character U+0001 in a string must be escaped", 4),
    ] as [([UInt8], String?, Int)])
    func utf8KnownAnswers(_ bytes: [UInt8], _ message: String?, _ offset: Int) {
        let result = StringKernels.agreed(bytes, 0..<bytes.count, "\(bytes)")
        #expect(result.error?.message == message, "\(bytes)")
        if message != nil { #expect(result.error?.offset == offset, "\(bytes)") }
    }

    @Test func escapeFlagIgnoresUTF8() throws {
        let cases: [(String, [UInt8])] = [
            (#"["Zoë Müller","0123456789abcdeé€😀","é\n","\tü","plain"]"#, [0, 0, TapeEntry.hasEscapes, TapeEntry.hasEscapes, 0]),
            (#"{"clé":"välue","k\u00e9":"😀"}"#, [0, 0, TapeEntry.hasEscapes, 0]),
        ]
        for (text, flags) in cases {
            let bytes = Array(text.utf8)
            let tape = try #require(StringKernels.agreed(bytes, 0..<bytes.count, text).tape)
            #expect(tape.filter { $0.kind == .string }.map(\.flags) == flags, "\(text)")
        }
    }

    /// A batch of records in one buffer: a record's unterminated string must not run on
    /// into the next record's quotes, and every record's tape is the same as alone.
    @Test func batchRecordsDoNotLeakIntoEachOther() {
        let texts = [#"{"a":"abc"#, #"{"b":"c"}"#, #"{"long":"0123456789abcdef0123456789"#, #"{"x":"0123456789abcdef0123456789"}"#, #"{"e":"é"}"#]
        var input = Batch(file: 0, index: 0)
        for (n, text) in texts.enumerated() {
            let start = input.bytes.count
            input.bytes.append(contentsOf: Array(text.utf8))
            input.records.append(RecordSlot(start: start, end: input.bytes.count, line: n + 1, offset: start))
            input.bytes.append(0x0A)
        }
        input.indexRecords(maxDepth: 64, stage: "input", kind: .parse, context: StageContext(stageName: "input", filePaths: ["f"]))
        #expect(input.errors.map { $0.line ?? 0 } == [1, 3])
        #expect(input.errors.map(\.message) == [
            "invalid JSON: unterminated string (byte 5 of the record)",
            "invalid JSON: unterminated string (byte 8 of the record)",
        ])
        #expect(input.records.map(\.line) == [2, 4, 5])
        input.withView { view in
            #expect(view.string(Int(input.records[1].tapeStart) + 2) == "0123456789abcdef0123456789")
            #expect(view.string(Int(input.records[2].tapeStart) + 2) == "é")
        }
    }
}

/// Seeded random damage to bench-like records: every kernel gives the same tape or the same
/// error at the same offset (and the damage does find errors).
@Suite struct JSONKernelMutationTests {
    @Test func damagedRecordsGiveTheSameAnswerWithEveryKernel() {
        let records = [
            #"{"id":1,"ts":"2026-11-20T18:24:10Z","status":"paid","customer":{"id":"c-221495","country":"FR","name":"Zoë Müller","email":"user524956@example.com"},"items":[{"sku":"SKU-739646","qty":3,"price":162.06}],"total":486.18,"currency":"EUR","notes":"call before delivery \"ring twice\""}"#,
            #"{"a":"李雷","b":[true,false,null,-0.5e+3],"c":{"d":"\u00e9\ud83d\ude00"},"e":"0123456789abcdef0123456789abcdef"}"#,
        ].map { Array($0.utf8) }
        let bytes: [UInt8] = [0x22, 0x5C, 0x7B, 0x7D, 0x5B, 0x5D, 0x3A, 0x2C, 0x00, 0x1F, 0x0A, 0x20, 0x80, 0xBF, 0xC3, 0xE2, 0xF0, 0xFF, 0x61, 0x30, 0x75]
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ bound: Int) -> Int {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return Int(state % UInt64(bound))
        }
        var errors = 0
        for round in 0..<3000 {
            var record = records[round % records.count]
            for _ in 0...next(3) { record[next(record.count)] = bytes[next(bytes.count)] }
            if next(4) == 0 { record.removeLast(next(record.count)) }
            guard !record.isEmpty else { continue }
            let buffer = record + Array("\n\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"".utf8)
            if StringKernels.agreed(buffer, 0..<record.count, "round \(round)").error != nil { errors += 1 }
        }
        #expect(errors > 1000)
    }
}

/// JSONTestSuite through every kernel, each file alone and inside a larger buffer.
@Suite(.enabled(if: TestSupport.runsConformance(TestSupport.conformance.appendingPathComponent("json-test-suite")), TestSupport.conformanceNote))
struct JSONKernelConformanceTests {
    @Test func everyFileGivesTheSameAnswerWithEveryKernel() throws {
        #expect(JSONConformanceTests.files.count > 300, "JSONTestSuite not found")
        for name in JSONConformanceTests.files {
            let bytes = try JSONConformanceTests.contents(name)
            let padded = bytes + Array("\"\"\"\"\\\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"".utf8)
            let result = StringKernels.agreed(padded, 0..<bytes.count, name)
            if name.hasPrefix("y_") { #expect(result.error == nil, "\(name)") }
            if name.hasPrefix("n_") { #expect(result.error != nil, "\(name)") }
            #expect(result.error == syntaxError(bytes), "\(name)")
        }
    }
}
