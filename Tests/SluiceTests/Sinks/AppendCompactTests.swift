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
