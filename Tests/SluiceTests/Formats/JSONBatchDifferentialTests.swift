import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// The batch path the runtime uses (`Batch.indexPendingRecords`: one tape for the whole
/// batch, the default string kernel reading whole steps up to the end of the batch
/// buffer) against every record indexed alone, in a buffer of its own, by the byte-by-byte
/// reference kernel (``ByteStringScan``): the same nodes, the same failures, the same
/// error messages and offsets.
///
/// The records are the ones a faster indexer gets wrong first: backslash runs of every
/// length across the 16- and 64-byte steps, escapes and non-ASCII text, nesting around the
/// depth limit, numbers ending at step boundaries and at the record's end, records that
/// end at the buffer's end, and random damage (invalid bytes, cuts). Any indexer that
/// replaces today's behind `indexPendingRecords` must pass this unchanged.
@Suite struct JSONBatchDifferentialTests {
    static let maxDepth = 24

    /// `{"p":"<pad>","s":"<body>"}` with the body starting `pad` bytes further on.
    static func withPad(_ pad: Int, _ body: String) -> [UInt8] {
        Array(#"{"p":"\#(String(repeating: "a", count: pad))","s":"\#(body)"}"#.utf8)
    }

    static var backslashRuns: [[UInt8]] {
        var records: [[UInt8]] = []
        for pad in [0, 1, 5, 6, 7, 8, 13, 14, 15, 16, 37, 38, 39, 40, 53, 54, 55, 56, 57] {
            for run in 0...9 {
                for after in [#"""#, "n", "a", "u00e9", "u12"] {
                    let body = String(repeating: #"\"#, count: run) + after
                    records.append(withPad(pad, body))
                    // The same run as a key, and cut right after the run.
                    records.append(Array(#"{"\#(String(repeating: "b", count: pad))\#(body)":1}"#.utf8))
                    records.append(Array(#"{"s":"\#(String(repeating: "c", count: pad))\#(String(repeating: #"\"#, count: run))"#.utf8))
                }
            }
        }
        return records
    }

    static var escapesAndText: [[UInt8]] {
        let pieces: [[UInt8]] = [
            Array("a".utf8), Array(#"\n"#.utf8), Array(#"\u00e9"#.utf8), Array(#"\ud83d\ude00"#.utf8),
            Array(#"\ud800"#.utf8), Array("é".utf8), Array("李雷".utf8), Array("😀".utf8), Array(#"\""#.utf8),
            Array(#"\\"#.utf8), Array(#"\/"#.utf8), [0xFF], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xE2, 0x82], [0x01],
            [0x09], Array(#"\x"#.utf8), Array(#"\u12G4"#.utf8), Array("{[:,]}".utf8),
        ]
        var generator = SplitMix64(seed: 0x5EED_0001)
        return (0..<1500).map { _ in
            var body: [UInt8] = []
            for _ in 0..<generator.next(12) {
                let piece = pieces[generator.next(pieces.count)]
                // Mostly valid pieces, so that the record gets past them to the next one.
                if generator.next(4) == 0 || piece.allSatisfy({ $0 >= 0x20 && $0 != 0xFF && $0 != 0xC0 }) { body += piece }
            }
            return Array(withPad(generator.next(70), "").dropLast(2)) + body + Array(#""}"#.utf8)
        }
    }

    static var nesting: [[UInt8]] {
        var records: [[UInt8]] = []
        for depth in (maxDepth - 2)...(maxDepth + 1) {
            let arrays = String(repeating: "[", count: depth - 1) + "1" + String(repeating: "]", count: depth - 1)
            records.append(Array(#"{"a":\#(arrays)}"#.utf8))
            let objects = String(repeating: #"{"k":"#, count: depth - 1) + "null" + String(repeating: "}", count: depth - 1)
            records.append(Array(#"{"o":\#(objects)}"#.utf8))
            records.append(Array(#"{"m":\#(String(repeating: #"[{"x":"#, count: depth / 2))"#.utf8))
        }
        return records
    }

    static var numbers: [[UInt8]] {
        let numbers = ["0", "-0", "7", "1.5", "-12.5e+3", "1e5", "2E-2", "01", "1.", "-", "1e", "--1", "1.2.3", "0x1", "1 2", "12345678901234567890"]
        var records: [[UInt8]] = []
        for pad in [0, 1, 2, 6, 7, 8, 9, 14, 15, 16, 17, 46, 47, 48, 49, 50] {
            for number in numbers {
                records.append(Array(#"{"p":"\#(String(repeating: "a", count: pad))","n":\#(number)}"#.utf8))
                records.append(Array(#"{"p":"\#(String(repeating: "a", count: pad))","n":[\#(number),\#(number)]}"#.utf8))
                records.append(Array(#"{"p":"\#(String(repeating: "a", count: pad))","n":\#(number)"#.utf8))  // cut after it
                records.append(Array(number.utf8))  // the whole record: a number, not an object
            }
        }
        return records
    }

    static var damaged: [[UInt8]] {
        let base = Array(#"{"id":1,"ts":"2026-11-20T18:24:10Z","status":"paid","customer":{"id":"c-221495","country":"FR","name":"Zoë Müller"},"items":[{"sku":"SKU-739646","qty":3,"price":162.06}],"total":486.18,"notes":"a \"b\" \\ c","ok":true,"none":null}"#.utf8)
        let bytes: [UInt8] = [0x22, 0x5C, 0x7B, 0x7D, 0x5B, 0x5D, 0x3A, 0x2C, 0x00, 0x1F, 0x0A, 0x0D, 0x09, 0x20, 0x80, 0xBF, 0xC3, 0xEF, 0xFF, 0x61, 0x30, 0x2D, 0x2E, 0x65, 0x74, 0x75]
        var generator = SplitMix64(seed: 0x5EED_0002)
        return (0..<2000).map { _ in
            var record = base
            for _ in 0...generator.next(3) { record[generator.next(record.count)] = bytes[generator.next(bytes.count)] }
            if generator.next(5) == 0 { record.removeLast(generator.next(record.count)) }
            if generator.next(7) == 0 { record.insert(0x20, at: generator.next(record.count + 1)) }
            return record
        }
    }

    /// Indexes `records` as batches of `perBatch` (joined by LF, the last one of each batch
    /// ending at the buffer's end) and checks every record against the reference.
    func check(_ records: [[UInt8]], perBatch: Int, _ family: String) {
        var mismatches = 0
        for first in stride(from: 0, to: records.count, by: perBatch) {
            let group = Array(records[first..<Swift.min(first + perBatch, records.count)])
            var batch = Batch(file: 0, index: 0)
            for (n, record) in group.enumerated() {
                let start = batch.bytes.count
                batch.bytes += record
                batch.records.append(RecordSlot(start: start, end: batch.bytes.count, line: n + 1, offset: start))
                if n + 1 < group.count { batch.bytes.append(0x0A) }
            }
            let slots = batch.records
            var failures: [Int: Batch.IndexFailure] = [:]
            batch.indexPendingRecords(pendingBytes: slots.reduce(0) { $0 + $1.end - $1.start }, maxDepth: Self.maxDepth) { i, slot, failure in
                #expect(slot == slots[i])
                failures[i] = failure
            }
            for (i, record) in group.enumerated() {
                let want = StringKernels.index(ByteStringScan.self, record, 0..<record.count, maxDepth: Self.maxDepth)
                let slot = batch.records[i]
                let note = "\(family), record \(first + i): \(String(decoding: record, as: UTF8.self).debugDescription)"
                switch want {
                case .failure(let error):
                    guard case .syntax(let got)? = failures[i] else {
                        Issue.record("\(note): the batch path did not report \(error)")
                        mismatches += 1
                        continue
                    }
                    #expect(got == error, "\(note)")
                    #expect(slot.tapeStart < 0, "\(note)")
                    if got != error { mismatches += 1 }
                case .success(let tape):
                    guard slot.tapeStart >= 0, slot.tapeEnd >= slot.tapeStart, Int(slot.tapeEnd) <= batch.tape.count else {
                        Issue.record("\(note): the batch path did not index it (\(String(describing: failures[i])))")
                        mismatches += 1
                        continue
                    }
                    let shift = Int(slot.tapeStart)
                    let got = Array(batch.tape[shift..<Int(slot.tapeEnd)])
                    let expected = tape.map { e in
                        var e = e
                        e.start += UInt32(slots[i].start)
                        e.end += UInt32(slots[i].start)
                        e.next += UInt32(shift)
                        return e
                    }
                    #expect(got == expected, "\(note)")
                    if tape.first?.kind == .object {
                        #expect(failures[i] == nil, "\(note)")
                    } else if case .notAnObject(let kind)? = failures[i] {
                        #expect(kind == tape.first?.kind, "\(note)")
                    } else {
                        Issue.record("\(note): the batch path did not report a non-object root")
                    }
                    if got != expected { mismatches += 1 }
                }
                if mismatches > 5 { return }
            }
        }
    }

    @Test func backslashRunsAcrossSteps() { check(Self.backslashRuns, perBatch: 7, "backslash runs") }
    @Test func escapesAndNonASCIIText() { check(Self.escapesAndText, perBatch: 5, "escapes and text") }
    @Test func nestingAroundTheDepthLimit() { check(Self.nesting, perBatch: 3, "nesting") }
    @Test func numbersAtStepBoundaries() { check(Self.numbers, perBatch: 4, "numbers") }
    @Test func damagedRecords() { check(Self.damaged, perBatch: 6, "damaged") }

    /// The families are not vacuous: each holds valid and invalid records.
    @Test func familiesHoldBothValidAndInvalidRecords() {
        for (name, records) in [("backslash runs", Self.backslashRuns), ("escapes and text", Self.escapesAndText), ("nesting", Self.nesting), ("numbers", Self.numbers), ("damaged", Self.damaged)] {
            let invalid = records.filter { syntaxError($0, maxDepth: Self.maxDepth) != nil }.count
            #expect(invalid > 0 && invalid < records.count, "\(name): \(invalid) of \(records.count) invalid")
        }
    }
}

