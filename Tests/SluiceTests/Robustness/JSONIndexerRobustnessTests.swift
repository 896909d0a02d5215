import Foundation
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// The outcome of indexing one text: the tape with offsets relative to the text's first
/// non-blank byte, or the error.
private enum IndexOutcome: Equatable {
    case accepted([TapeEntry])
    case rejected(JSONSyntaxError)
}

/// Indexes `text` placed in a buffer between `prefix` and `suffix` (which must not be read).
private func index(_ text: [UInt8], prefix: [UInt8] = [], suffix: [UInt8] = [], maxDepth: Int = JSONIndexer.defaultMaxDepth) -> IndexOutcome {
    let buffer = prefix + text + suffix
    var tape: [TapeEntry] = [TapeEntry(kind: .null, start: 0, end: 0, next: 1)]  // something already on the tape
    do {
        let root = try buffer.withUnsafeBufferPointer { bytes throws(JSONSyntaxError) in
            try JSONIndexer.index(bytes, start: prefix.count, end: prefix.count + text.count, maxDepth: maxDepth, into: &tape)
        }
        #expect(root == 1)
        let shift = UInt32(prefix.count)
        return .accepted(tape[root...].map { entry in
            var entry = entry
            entry.start -= shift
            entry.end -= shift
            entry.next -= 1
            return entry
        })
    } catch {
        #expect(tape.count == 1, "the tape is truncated back on error")
        return .rejected(error)
    }
}

/// Whether `text` holds something on which Sluice and JSONSerialization knowingly differ:
/// an escaped surrogate (Sluice accepts unpaired ones, see ``JSONIndexer``), or a number
/// no Double holds (Sluice passes numbers through as written).
private func hasKnownDifference(_ text: [UInt8]) -> Bool {
    let string = String(decoding: text, as: UTF8.self).lowercased()
    if string.range(of: #"\\u[d][89a-f]"#, options: .regularExpression) != nil { return true }
    if string.range(of: #"[0-9]e[+-]?[0-9]{3,}"#, options: .regularExpression) != nil { return true }
    return false
}

extension RobustnessTests {
    @Suite struct JSONIndexerRobustnessTests {
        static let seed: UInt64 = 0x5EED_0001

        /// Mutated records: the indexer returns a tape or an error, never traps; an accepted
        /// text writes back byte for byte and re-indexes to the same tape; bytes around the
        /// record never change the result.
        @Test func mutatedRecordsIndexOrFailCleanly() throws {
            var rng = SplitMix64(seed: Self.seed)
            var accepted = 0
            for n in 0..<4000 {
                let original = Array(SampleRecords.record(using: &rng).utf8)
                let text = Mutator.mutate(original, using: &rng)
                let alone = index(text)
                // Quotes, digits and letters right after `end` would change the result if read.
                let fenced = index(text, prefix: Array(#"{"x":"#.utf8), suffix: Array(#"0"]}e5true"#.utf8))
                #expect(alone == fenced, "case \(n): bytes outside the record changed the result: \(Array(text))")
                guard case .accepted(let tape) = alone else {
                    if case .rejected(let error) = alone {
                        #expect(error.offset >= 0 && error.offset <= text.count, "case \(n): offset \(error.offset) outside the text")
                    }
                    continue
                }
                accepted += 1
                var batch = Batch(file: 0, index: 0, bytes: text, records: [RecordSlot(start: 0, end: text.count, line: 1, offset: 0)])
                try batch.indexRecord(at: 0)
                let written = batch.withView { view in
                    var writer = JSONWriter()
                    writer.write(view, node: Int(batch.records[0].tapeStart))
                    return writer.bytes
                }
                let trimmed = Array(text.drop(while: isJSONSpace).reversed().drop(while: isJSONSpace).reversed())
                #expect(written == trimmed, "case \(n): raw bytes of the root differ from the input")
                let lead = UInt32(text.count - text.drop(while: isJSONSpace).count)
                let again = index(written)
                #expect(again == .accepted(tape.map { var e = $0; e.start -= lead; e.end -= lead; return e }), "case \(n): re-indexing differs")
            }
            #expect(accepted > 200, "the mutations should leave a fair share of valid texts")
        }

        /// Accept/reject agrees with Foundation's JSONSerialization, apart from the documented
        /// differences (escaped lone surrogates accepted; numbers beyond Double accepted).
        @Test func agreesWithJSONSerialization() {
            var rng = SplitMix64(seed: Self.seed ^ 0xF00D)
            var disagreements: [String] = []
            for n in 0..<3000 {
                let text = Mutator.mutate(Array(SampleRecords.record(using: &rng).utf8), using: &rng)
                // JSONSerialization sniffs UTF-16/32 from NUL bytes and BOMs; compare only UTF-8 text.
                guard !text.contains(0), !text.starts(with: [0xEF, 0xBB, 0xBF]), !text.starts(with: [0xFE]), !text.starts(with: [0xFF]) else { continue }
                let ours: Bool
                if case .accepted = index(text) { ours = true } else { ours = false }
                let theirs = (try? JSONSerialization.jsonObject(with: Data(text), options: [.fragmentsAllowed])) != nil
                if ours != theirs && !hasKnownDifference(text) {
                    disagreements.append("case \(n): sluice \(ours ? "accepts" : "rejects"), Foundation \(theirs ? "accepts" : "rejects") \(String(decoding: text, as: UTF8.self).debugDescription) \(text)")
                }
            }
            #expect(disagreements.isEmpty, "\(disagreements.prefix(10).joined(separator: "\n"))")
        }

        /// Hostile shapes: deep nesting, long strings, invalid UTF-8, lone surrogates, huge numbers.
        @Test func hostileShapes() {
            var rng = SplitMix64(seed: Self.seed ^ 0xBAD)
            var cases: [[UInt8]] = [
                Array(repeating: UInt8(ascii: "["), count: 100_000),
                Array((String(repeating: "[", count: 256) + String(repeating: "]", count: 256)).utf8),
                Array(String(repeating: "{\"a\":", count: 300).utf8) + [UInt8(ascii: "1")] + Array(repeating: UInt8(ascii: "}"), count: 300),
                Array(("\"" + String(repeating: "é", count: 100_000) + "\"").utf8),
                Array(("\"" + String(repeating: "\\u0041", count: 20_000) + "\"").utf8),
                Array("1".utf8) + Array(repeating: UInt8(ascii: "9"), count: 100_000),
                Array("1e".utf8) + Array(repeating: UInt8(ascii: "9"), count: 10_000),
                Array(#"["\ud800", "\udfff", "\ud800\ud800", "\udc00\ud800"]"#.utf8),
                [0x22, 0xED, 0xA0, 0x80, 0x22],  // an encoded surrogate
                [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22],  // past U+10FFFF
                [0x22, 0xC0, 0xAF, 0x22],  // overlong
                [0x22, 0xE2, 0x82],  // truncated inside a sequence at the end
                [0xEF, 0xBB, 0xBF],
                [], [0x20], [0x22], [0x5C], [0x2D], Array("-".utf8), Array("tru".utf8), Array("nul".utf8),
            ]
            for _ in 0..<300 {
                let depth = rng.int(1...400)
                var text = [UInt8]()
                for _ in 0..<depth { text += rng.chance(0.5) ? Array("[".utf8) : Array("{\"k\":".utf8) }
                text += rng.bytes(rng.int(0...8))
                cases.append(Mutator.mutate(text, using: &rng))
                cases.append(rng.bytes(rng.int(0...64)))
            }
            for text in cases {
                switch index(text) {
                case .accepted(let tape):
                    #expect(!tape.isEmpty)
                    #expect(tape.first.map { Int($0.end) } ?? 0 <= text.count)
                case .rejected(let error):
                    #expect(error.offset >= 0 && error.offset <= text.count)
                }
            }
            if case .accepted = index(cases[1]) {} else { Issue.record("256 levels are within the default limit") }
            if case .accepted = index(cases[7]) {} else { Issue.record("escaped lone surrogates are accepted by design") }
        }
    }
}
