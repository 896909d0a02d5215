import Foundation
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// `appendCompact` copies one-line text as it is and strips whitespace outside strings
/// from text that spans lines (an LF or a CR anywhere).
@Suite struct AppendCompactTests {
    @Test(arguments: [
        (" {\"a\": 1, \"b\": \"x y\"} \r", "{\"a\": 1, \"b\": \"x y\"}"),
        ("{\"a\":\r1,\"b\":\"\\\" \\\\ \"}", "{\"a\":1,\"b\":\"\\\" \\\\ \"}"),
        ("[\n  1,\n  \"a\\nb c\"\n]\n", "[1,\"a\\nb c\"]"),
        (String(repeating: "x", count: 100), String(repeating: "x", count: 100)),
        ("   ", ""),
    ])
    func compacts(_ text: String, _ expected: String) {
        var out: [UInt8] = Array(">".utf8)
        Array(text.utf8).withUnsafeBufferPointer { appendCompact($0, to: &out) }
        #expect(String(decoding: out, as: UTF8.self) == ">" + expected)
    }
}

extension AppendCompactTests {
    /// The encoder's batch path (one line-break check for the whole buffer) writes what
    /// `appendCompact` per record writes, whether no record, one or several span lines,
    /// with blanks around records, gaps between slots and other framings.
    @Test func batchTextMatchesCompactingEachRecord() {
        var random = SplitMix64(seed: 0xC0FFEE)
        let pieces = ["{\"a\":1}", " {\"b\": \"x y\"}\t", "[1, 2]", "{\"s\":\"\\\" \\\\\"}", "{\"a\":\n 1}", "[\r\n1]", "  ", "\"t\""]
        for round in 0..<400 {
            var bytes: [UInt8] = []
            var slots: [RecordSlot] = []
            let multiLine = round % 3 == 0
            for _ in 0..<Int.random(in: 0...12, using: &random) {
                var piece = pieces[Int.random(in: 0..<pieces.count, using: &random)]
                if !multiLine { piece = piece.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\r", with: " ") }
                // A gap: a dropped record's bytes, or a rewriting stage's line break.
                switch Int.random(in: 0..<4, using: &random) {
                case 0: bytes += Array("xx".utf8)
                case 1: bytes += [0x0A]
                case 2: bytes += Array("\r\n".utf8)
                default: break
                }
                let start = bytes.count
                bytes += Array(piece.utf8)
                slots.append(RecordSlot(start: start, end: bytes.count, line: 1, offset: start))
            }
            if round % 5 == 4 { slots.reverse() }  // out of order
            for (separator, terminator) in [([UInt8](), [UInt8(0x0A)]), (Array(",".utf8), []), ([], Array("\r\n".utf8))] {
                var expected: [UInt8] = []
                bytes.withUnsafeBufferPointer { b in
                    for (i, slot) in slots.enumerated() {
                        if i > 0 { expected += separator }
                        appendCompact(UnsafeBufferPointer(rebasing: b[slot.start..<slot.end]), to: &expected)
                        expected += terminator
                    }
                }
                let out = bytes.withUnsafeBufferPointer { OutputEncoder.text(of: slots, in: $0, separator: separator, terminator: terminator) }
                #expect(out == expected, "round \(round): \(String(decoding: bytes, as: UTF8.self))")
            }
        }
    }
}

extension AppendCompactTests {
    /// The encoder's shortcut for records that already lie as lines (`backToBackLines`)
    /// gives exactly the general path's NDJSON text whenever it answers, and answers for
    /// the layout a rewriting stage writes: lines back to back from anywhere in the
    /// buffer, of every length around the 16- and 64-byte steps of the line-break
    /// count, with a line break, CR, blank or gap placed anywhere.
    @Test func backToBackLinesAreTheGeneralText() {
        var random = SplitMix64(seed: 0xB2B)
        var answered = 0, declined = 0
        for round in 0..<3_000 {
            var bytes: [UInt8] = []
            var slots: [RecordSlot] = []
            if round % 4 == 1 { bytes += Array("head".utf8) }  // the first record not at 0
            for _ in 0..<Int.random(in: 1...40, using: &random) {
                let length = Int.random(in: 1...150, using: &random)
                var record = [UInt8](repeating: UInt8(ascii: "x"), count: length)
                record[0] = UInt8(ascii: "{")
                record[length - 1] = UInt8(ascii: "}")
                let start = bytes.count
                bytes += record
                slots.append(RecordSlot(start: start, end: bytes.count, line: 1, offset: start))
                bytes.append(0x0A)
            }
            if round % 4 == 2 { bytes += Array("tail".utf8) }  // bytes after the last record
            // Now and then, one flaw the shortcut must notice.
            switch round % 8 {
            case 3: bytes[Int.random(in: 0..<bytes.count, using: &random)] = [0x0A, 0x0D, 0x20, 0x09][Int.random(in: 0..<4, using: &random)]
            case 5:
                let k = Int.random(in: 0..<slots.count, using: &random)
                if Bool.random(using: &random) { slots[k].end -= 1 } else { slots.remove(at: k) }
            case 7 where slots.count > 1: slots.swapAt(0, slots.count - 1)
            default: break
            }
            let expected = bytes.withUnsafeBufferPointer { OutputEncoder.text(of: slots, in: $0, separator: [], terminator: [0x0A]) }
            if let lines = OutputEncoder.backToBackLines(of: slots, in: bytes) {
                answered += 1
                #expect(lines == expected, "round \(round)")
            } else {
                declined += 1
            }
        }
        #expect(answered > 1_000 && declined > 300, "both ways are exercised (\(answered) / \(declined))")
    }

    @Test func lineBreaksAreCountedAtEveryLengthAndPlace() {
        var random = SplitMix64(seed: 0x1F)
        for n in 0..<300 {
            var bytes = (0..<n).map { _ in [0x0A, 0x0D, 0x20, 0x7B, 0x8A, 0xFF][Int.random(in: 0..<6, using: &random)] as UInt8 }
            bytes.append(0x0A)  // past the range: not counted
            let expected = bytes[0..<n].filter { $0 == 0x0A || $0 == 0x0D }.count
            #expect(bytes.withUnsafeBufferPointer { OutputEncoder.lineBreaks(in: $0.baseAddress!, count: n) } == expected, "n \(n)")
        }
        // More than 127 steps of 64 bytes, all line breaks: every byte counter wraps if not added up in time.
        let many = [UInt8](repeating: 0x0A, count: 64 * 300 + 5)
        #expect(many.withUnsafeBufferPointer { OutputEncoder.lineBreaks(in: $0.baseAddress!, count: many.count) } == many.count)
    }
}
