import Foundation
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// What reading a file produced, in a form that can be compared across chunk sizes.
struct ReadSnapshot: Equatable, CustomStringConvertible {
    struct Record: Equatable {
        var text: [UInt8]
        var line: Int
        var offset: Int
    }

    /// Per batch: its index, records and record errors.
    var batches: [(index: Int, records: [Record], errors: [RecordError])]
    var outcome: FileReadOutcome

    init(_ outcome: FileReadOutcome, _ batches: [Batch]) {
        self.batches = batches.map { batch in
            (batch.index, batch.records.map { Record(text: Array(batch.bytes[$0.start..<$0.end]), line: $0.line, offset: $0.offset) }, batch.errors)
        }
        var outcome = outcome
        if outcome.failure != nil {
            // How far the reader had read when it stopped depends on the chunk size.
            outcome.fileBytes = 0
            outcome.decodedBytes = 0
        }
        self.outcome = outcome
    }

    var records: [Record] { batches.flatMap(\.records) }
    var errors: [RecordError] { batches.flatMap(\.errors) }

    static func == (a: ReadSnapshot, b: ReadSnapshot) -> Bool {
        a.outcome == b.outcome && a.batches.count == b.batches.count
            && zip(a.batches, b.batches).allSatisfy { $0.index == $1.index && $0.records == $1.records && $0.errors == $1.errors }
    }

    /// Where `self` first differs from `other`.
    func firstDifference(from other: ReadSnapshot) -> String {
        if outcome != other.outcome { return "outcome \(outcome) vs \(other.outcome)" }
        for (k, (a, b)) in zip(batches, other.batches).enumerated() {
            if a.records != b.records {
                let i = (0..<min(a.records.count, b.records.count)).first { a.records[$0] != b.records[$0] } ?? min(a.records.count, b.records.count)
                return "batch \(k) record \(i): \(a.records.count > i ? "\(a.records[i].line):\(a.records[i].offset):\(String(decoding: a.records[i].text.prefix(80), as: UTF8.self))" : "none") vs \(b.records.count > i ? "\(b.records[i].line):\(b.records[i].offset):\(String(decoding: b.records[i].text.prefix(80), as: UTF8.self))" : "none")"
            }
            if a.errors != b.errors {
                let i = (0..<min(a.errors.count, b.errors.count)).first { a.errors[$0] != b.errors[$0] } ?? min(a.errors.count, b.errors.count)
                func show(_ e: [RecordError]) -> String {
                    guard e.count > i else { return "none" }
                    if case .raw(let bytes, let t) = e[i].record { return "\(e[i].line ?? 0):\(e[i].offset ?? 0) \(bytes.count) bytes \(t) \(e[i].message)" }
                    return "\(e[i])"
                }
                return "batch \(k) error \(i): \(show(a.errors)) vs \(show(b.errors))"
            }
        }
        return "batch count \(batches.count) vs \(other.batches.count)"
    }

    var description: String {
        "\(batches.count) batches, \(records.count) records, \(errors.count) errors, failure: \(outcome.failure?.message ?? "none")"
    }
}

/// Reads `file` with each of `chunkSizes` and checks the results are identical; returns the first.
func readWithChunkSizes(_ file: InputFile, _ options: ReadOptions, _ chunkSizes: [Int], _ label: String) -> ReadSnapshot {
    var first: ReadSnapshot?
    for chunkSize in chunkSizes {
        var options = options
        options.chunkSize = chunkSize
        let (outcome, batches) = readAll(file, options)
        let snapshot = ReadSnapshot(outcome, batches)
        if let first {
            #expect(snapshot == first, "\(label): chunk size \(chunkSize) gives \(snapshot), chunk size \(chunkSizes[0]) gave \(first): \(snapshot.firstDifference(from: first))")
        } else {
            first = snapshot
        }
    }
    return first!
}

private func trimmedJSONSpace(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
    Array(bytes.drop(while: isJSONSpace).reversed().drop(while: isJSONSpace).reversed())
}

extension RobustnessTests {
    @Suite struct FramerRobustnessTests {
        static let seed: UInt64 = 0x5EED_0002

        static func chunkSizes(_ rng: inout SplitMix64) -> [Int] {
            [rng.int(1...7), rng.int(8...64), rng.int(65...4096), 1 << 20]
        }

        /// One random NDJSON line (without its terminator).
        static func ndjsonLine(_ rng: inout SplitMix64, maxRecordBytes: Int) -> [UInt8] {
            switch rng.int(0..<10) {
            case 0: return []
            case 1: return Array(String(repeating: rng.pick([" ", "\t", "\r"]), count: rng.int(1...5)).utf8)
            case 2: return Mutator.mutate(Array(SampleRecords.record(using: &rng).utf8), using: &rng).filter { $0 != 0x0A }
            case 3: return rng.bytes(rng.int(1...40)).filter { $0 != 0x0A }
            case 4:  // longer than the limit
                return Array(("{\"pad\":\"" + String(repeating: "z", count: maxRecordBytes + rng.int(0...3000)) + "\"}").utf8)
            case 5:  // within the limit, padded with blanks that push the raw line past it
                return Array(SampleRecords.orders[0].utf8) + Array(repeating: rng.pick([0x20, 0x09, 0x0D]), count: maxRecordBytes + rng.int(1...3000))
            case 6:  // exactly at the limit
                let body = "{\"p\":\"\"}"
                return Array(("{\"p\":\"" + String(repeating: "q", count: max(0, maxRecordBytes - body.utf8.count)) + "\"}").utf8)
            default: return Array(SampleRecords.record(using: &rng).utf8)
            }
        }

        /// NDJSON: every non-blank line is a record or a limit error, in order, with its
        /// line number; and any chunk size gives the same batches.
        @Test func ndjsonAccountsForEveryLine() throws {
            var rng = SplitMix64(seed: Self.seed)
            let dir = try TempDir()
            for n in 0..<60 {
                let maxRecordBytes = rng.pick([40, 200, 1500, 5000])
                var content: [UInt8] = rng.chance(0.2) ? [0xEF, 0xBB, 0xBF] : []
                let lineCount = rng.int(0...40)
                for k in 0..<lineCount {
                    content += Self.ndjsonLine(&rng, maxRecordBytes: maxRecordBytes)
                    if k < lineCount - 1 || rng.chance(0.5) { content += rng.chance(0.3) ? [0x0D, 0x0A] : [0x0A] }
                }
                let file = try dir.write("case\(n).ndjson", content)
                let options = ReadOptions(format: .auto, batchSize: rng.int(1...8), maxRecordBytes: maxRecordBytes, maxBatchBytes: rng.int(1...20_000))
                let snapshot = readWithChunkSizes(file, options, Self.chunkSizes(&rng), "case \(n)")
                #expect(snapshot.outcome.failure == nil)

                // The expected records, from a plain split of the whole file.
                let body = content.starts(with: [0xEF, 0xBB, 0xBF]) ? content[3...] : content[...]
                var expected: [(line: Int, text: [UInt8]?)] = []  // nil text: a limit error
                for (i, line) in body.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
                    let text = trimmedJSONSpace(line)
                    if text.isEmpty { continue }
                    expected.append((i + 1, text.count > maxRecordBytes ? nil : text))
                }
                var records = snapshot.records[...]
                var errors = snapshot.errors[...]
                for item in expected {
                    if let text = item.text {
                        guard let record = records.popFirst() else { Issue.record("case \(n): line \(item.line) lost"); break }
                        #expect(record.text == text && record.line == item.line, "case \(n): line \(item.line) framed as line \(record.line)")
                    } else {
                        guard let error = errors.popFirst() else { Issue.record("case \(n): long line \(item.line) lost"); break }
                        #expect(error.kind == .limit && error.line == item.line, "case \(n): limit error for line \(item.line) is for line \(error.line ?? 0)")
                    }
                }
                #expect(records.isEmpty && errors.isEmpty, "case \(n): \(records.count) records and \(errors.count) errors beyond the input")
            }
        }

        /// Regression: blanks after a record that push its line past `max_record_bytes` made
        /// the record a limit error when the line spanned chunks, and a record when it did not.
        @Test(arguments: [1, 7, 1000, 1 << 20])
        func trailingBlanksPastTheLimitDoNotDependOnChunkSize(chunkSize: Int) throws {
            let dir = try TempDir()
            let blanks = String(repeating: " ", count: 1100)
            let file = try dir.write("blanks.ndjson", "{\"a\":1}" + blanks + "\r\n{\"b\":2}\n{\"c\":3}" + blanks + "x\n{\"d\":4}" + blanks)
            let (outcome, batches) = readAll(file, ReadOptions(maxRecordBytes: 10, chunkSize: chunkSize))
            #expect(outcome.failure == nil)
            #expect(texts(batches) == [#"{"a":1}"#, #"{"b":2}"#, #"{"d":4}"#])
            #expect(slots(batches).map(\.line) == [1, 2, 4])
            let errors = batches.flatMap(\.errors)
            #expect(errors.map(\.kind) == [.limit] && errors.map(\.line) == [3])
            if case .raw(let shown, _) = errors.first?.record {
                #expect(shown == Array("{\"c\":3}".utf8), "the blanks ending the first 1024 bytes are not shown")
            }
        }

        /// JSON arrays: a well-formed array gives one record or limit error per element; a
        /// damaged one gives records and at most one file-level parse failure; any chunk
        /// size gives the same result.
        @Test func jsonArraysAccountForEveryElement() throws {
            var rng = SplitMix64(seed: Self.seed ^ 0xA77A)
            let dir = try TempDir()
            for n in 0..<80 {
                let maxRecordBytes = rng.pick([40, 300, 5000])
                var elements: [[UInt8]] = []
                for _ in 0..<rng.int(0...25) {
                    switch rng.int(0..<6) {
                    case 0: elements.append(Array(("{\"pad\":\"" + String(repeating: "]", count: maxRecordBytes + rng.int(0...2000)) + "\"}").utf8))
                    case 1: elements.append(Array(rng.pick(["1", "-2.5e3", "\"s]t,r\"", "null", "[1,[2]]", "\"\\\"]\""]).utf8))
                    default: elements.append(Array(SampleRecords.record(using: &rng).utf8).filter { $0 != 0x20 })
                    }
                }
                func space() -> [UInt8] { rng.pick([[], [0x20], [0x0A], [0x0D, 0x0A], [0x09, 0x0A, 0x20]]) }
                var content: [UInt8] = (rng.chance(0.2) ? [0xEF, 0xBB, 0xBF] : []) + space() + [UInt8(ascii: "[")]
                for (k, element) in elements.enumerated() {
                    content += space() + element + space() + (k < elements.count - 1 ? [UInt8(ascii: ",")] : [])
                }
                content += space() + [UInt8(ascii: "]")] + space()
                let damaged = rng.chance(0.5)
                if damaged { content = Mutator.mutate(content, using: &rng) }
                let file = try dir.write("case\(n).json", content)
                let options = ReadOptions(format: .json, batchSize: rng.int(1...8), maxRecordBytes: maxRecordBytes)
                let snapshot = readWithChunkSizes(file, options, Self.chunkSizes(&rng), "case \(n)")
                if !damaged {
                    #expect(snapshot.outcome.failure == nil, "case \(n): \(snapshot)")
                    #expect(snapshot.records.count + snapshot.errors.count == elements.count, "case \(n): \(elements.count) elements, \(snapshot)")
                    let kept = elements.filter { $0.count <= maxRecordBytes }
                    #expect(snapshot.records.map(\.text) == kept, "case \(n)")
                } else if let failure = snapshot.outcome.failure {
                    #expect(failure.kind == .parse && failure.offset != nil && failure.offset! <= content.count, "case \(n): \(failure)")
                }
            }
        }

        /// Regression: a document followed by more than 64 KiB of blanks was a limit error
        /// (the tolerance for trailing blanks was capped), and with small chunks each chunk
        /// rescanned every blank so far (quadratic: a minute for 70 KB at chunk size 1).
        @Test(arguments: [1, 5, 1 << 20])
        func documentWithManyTrailingBlanksIsOneRecord(chunkSize: Int) throws {
            let dir = try TempDir()
            let blanks = String(repeating: " \n", count: 40_000)
            let file = try dir.write("doc.json", "\n {\"a\": 1}" + blanks)
            let (outcome, batches) = readAll(file, ReadOptions(format: .json, maxRecordBytes: 10, chunkSize: chunkSize))
            #expect(outcome.failure == nil)
            #expect(texts(batches) == [#"{"a": 1}"#] && batches.flatMap(\.errors).isEmpty)
            #expect(slots(batches).map(\.line) == [2] && slots(batches).map(\.offset) == [2])
            let late = try dir.write("late.json", "{\"a\": 1}" + blanks + "x")
            let (_, rejected) = readAll(late, ReadOptions(format: .json, maxRecordBytes: 10, chunkSize: chunkSize))
            #expect(texts(rejected).isEmpty && rejected.flatMap(\.errors).map(\.kind) == [.limit])
        }

        /// A one-value document: the trimmed text is one record, or one limit error.
        @Test func jsonDocumentsAreOneRecordOrOneError() throws {
            var rng = SplitMix64(seed: Self.seed ^ 0xD0C)
            let dir = try TempDir()
            for n in 0..<60 {
                let maxRecordBytes = rng.pick([40, 300, 5000])
                var text = Array(SampleRecords.record(using: &rng).utf8)
                if rng.chance(0.3) { text = Array(("{\"pad\":\"" + String(repeating: "x", count: maxRecordBytes) + "\"}").utf8) }
                if rng.chance(0.5) { text = Mutator.mutate(text, using: &rng) }
                if let first = trimmedJSONSpace(text[...]).first, first == UInt8(ascii: "[") || first == UInt8(ascii: "<") { text.insert(UInt8(ascii: "{"), at: 0) }
                let content = Array(repeating: rng.pick([0x20, 0x0A, 0x09]), count: rng.int(0...3)) + text
                    + Array(repeating: rng.pick([0x20, 0x0A, 0x0D]), count: rng.pick([0, 2, maxRecordBytes + 10, 70_000]))
                let file = try dir.write("case\(n).json", content)
                let snapshot = readWithChunkSizes(file, ReadOptions(format: .json, maxRecordBytes: maxRecordBytes), Self.chunkSizes(&rng), "case \(n)")
                let trimmed = trimmedJSONSpace(content[...])
                #expect(snapshot.outcome.failure == nil)
                if trimmed.isEmpty {
                    #expect(snapshot.records.isEmpty && snapshot.errors.isEmpty)
                } else if trimmed.count > maxRecordBytes {
                    #expect(snapshot.records.isEmpty && snapshot.errors.map(\.kind) == [.limit], "case \(n): \(snapshot)")
                } else {
                    #expect(snapshot.records.map(\.text) == [trimmed] && snapshot.errors.isEmpty, "case \(n): \(snapshot)")
                }
            }
        }
    }
}
