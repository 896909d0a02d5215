import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO

extension InputsTests {
    /// The NDJSON framer's byte fill (``BatchAssembler/append(_:count:)``) against a model
    /// of the framing rules applied to the whole text at once, over random texts cut into
    /// random chunks: the same records, lines, offsets, errors and batch boundaries, and
    /// every batch's records back to back from byte 0.
    @Suite struct NDJSONByteFillTests {
        struct Framed: Equatable, CustomStringConvertible {
            var batches: [[String]] = []   // per batch: "R line offset text" or "E line offset shown"
            var description: String { batches.map { $0.joined(separator: " | ") }.joined(separator: "\n") }
        }

        /// The rules, line by line: trim blanks, skip blank lines, a line longer than the
        /// limit is an error showing its first 1024 bytes (without their trailing blanks).
        static func model(_ text: [UInt8], batchSize: Int, maxBatchBytes: Int, maxRecordBytes: Int) -> Framed {
            var framed = Framed()
            var current: [String] = []
            var records = 0, errors = 0, bytes = 0
            func close() {
                if records + errors > 0 { framed.batches.append(current) }
                current = []; records = 0; errors = 0; bytes = 0
            }
            var lineStart = 0, line = 1
            while lineStart <= text.count {
                var lineEnd = lineStart
                while lineEnd < text.count && text[lineEnd] != 0x0A { lineEnd += 1 }
                if lineStart == text.count { break }
                var start = lineStart, end = lineEnd
                while start < end && isJSONSpace(text[start]) { start += 1 }
                while end > start && isJSONSpace(text[end - 1]) { end -= 1 }
                if start < end {
                    if end - start > maxRecordBytes {
                        var shownEnd = min(start + 1024, lineEnd)
                        while shownEnd > start && isJSONSpace(text[shownEnd - 1]) { shownEnd -= 1 }
                        current.append("E \(line) \(start) " + String(decoding: text[start..<shownEnd], as: UTF8.self))
                        errors += 1
                        if records + errors >= batchSize { close() }
                    } else {
                        current.append("R \(line) \(start) " + String(decoding: text[start..<end], as: UTF8.self))
                        records += 1
                        bytes += end - start
                        if records + errors >= batchSize || bytes >= maxBatchBytes { close() }
                    }
                }
                line += 1
                lineStart = lineEnd + 1
            }
            close()
            return framed
        }

        static func frame(_ text: [UInt8], cuts: [Int], batchSize: Int, maxBatchBytes: Int, maxRecordBytes: Int) throws -> Framed {
            let options = ReadOptions(batchSize: batchSize, maxRecordBytes: maxRecordBytes, maxBatchBytes: maxBatchBytes)
            var framer = NDJSONFramer(assembler: BatchAssembler(fileIndex: 0, file: "f", options: options), maxRecordBytes: maxRecordBytes)
            var batches: [Batch] = []
            try text.withUnsafeBufferPointer { whole in
                var from = 0
                for cut in cuts + [text.count] where cut >= from {
                    try framer.consume(UnsafeBufferPointer(rebasing: whole[from..<cut])) { batches.append($0) }
                    from = cut
                }
                try framer.finish { batches.append($0) }
            }
            var framed = Framed()
            for batch in batches {
                // Back to back from byte 0, and nothing past the last record.
                #expect(batch.records.first.map { $0.start == 0 } ?? true)
                #expect(zip(batch.records, batch.records.dropFirst()).allSatisfy { $0.end == $1.start })
                #expect(batch.records.last.map { $0.end == batch.bytes.count } ?? batch.bytes.isEmpty)
                var lines: [(Int, String)] = batch.records.map {
                    ($0.offset, "R \($0.line) \($0.offset) " + String(decoding: batch.bytes[$0.start..<$0.end], as: UTF8.self))
                }
                for error in batch.errors {
                    guard case .raw(let shown, truncated: true) = error.record else { Issue.record("error without its bytes"); continue }
                    lines.append((error.offset ?? 0, "E \(error.line ?? 0) \(error.offset ?? 0) " + String(decoding: shown, as: UTF8.self)))
                }
                framed.batches.append(lines.sorted { $0.0 < $1.0 }.map(\.1))
            }
            return framed
        }

        /// As ``frame(_:cuts:batchSize:maxBatchBytes:maxRecordBytes:)``, decoding in place: the
        /// first `head` bytes through ``NDJSONFramer/consume(_:emit:)`` (the reader's sniffed
        /// head), the rest written by a mock decoder straight into each
        /// ``NDJSONFramer/decodeTarget(chunkSize:)``, at most `pieces[i]` bytes each time.
        static func frameInPlace(_ text: [UInt8], head: Int, chunkSize: Int, pieces: [Int], batchSize: Int, maxBatchBytes: Int,
                                 maxRecordBytes: Int) throws -> Framed {
            let options = ReadOptions(batchSize: batchSize, maxRecordBytes: maxRecordBytes, maxBatchBytes: maxBatchBytes)
            var framer = NDJSONFramer(assembler: BatchAssembler(fileIndex: 0, file: "f", options: options), maxRecordBytes: maxRecordBytes)
            var batches: [Batch] = []
            let head = min(head, text.count)
            try text.withUnsafeBufferPointer { whole in
                try framer.consume(UnsafeBufferPointer(rebasing: whole[..<head])) { batches.append($0) }
                framer.startInPlace()
                var at = head, i = 0
                while at < text.count {
                    let target = framer.decodeTarget(chunkSize: chunkSize)
                    #expect(target.count >= 1 && target.count <= max(2, chunkSize))
                    let n = min(target.count, max(1, pieces[i % pieces.count]), text.count - at)
                    i += 1
                    // Scribble past what is decoded: the framer must not read it.
                    for k in n..<target.count { target[k] = 0x7B }
                    _ = UnsafeMutableBufferPointer(rebasing: target[..<n]).initialize(from: whole[at..<at + n])
                    at += n
                    try framer.consumeDecoded(n) { batches.append($0) }
                }
                try framer.finish { batches.append($0) }
            }
            var framed = Framed()
            for batch in batches {
                // In order, apart, inside the buffer (the gaps hold what was skipped).
                #expect(zip(batch.records, batch.records.dropFirst()).allSatisfy { $0.end <= $1.start && $0.start < $0.end })
                #expect(batch.records.last.map { $0.end <= batch.bytes.count } ?? true)
                var lines: [(Int, String)] = batch.records.map {
                    ($0.offset, "R \($0.line) \($0.offset) " + String(decoding: batch.bytes[$0.start..<$0.end], as: UTF8.self))
                }
                for error in batch.errors {
                    guard case .raw(let shown, truncated: true) = error.record else { Issue.record("error without its bytes"); continue }
                    lines.append((error.offset ?? 0, "E \(error.line ?? 0) \(error.offset ?? 0) " + String(decoding: shown, as: UTF8.self)))
                }
                framed.batches.append(lines.sorted { $0.0 < $1.0 }.map(\.1))
            }
            return framed
        }

        @Test(arguments: [5, 40, 2000])
        func inPlaceFramesAsTheRulesSay(maxRecordBytes: Int) throws {
            var rng = SplitMix64(seed: 7 &+ UInt64(maxRecordBytes))
            for round in 0..<80 {
                let text = Self.text(&rng, lines: 1 + rng.next(40))
                let step = [1, 2, 7, 64, 1000, 5000][round % 6]
                let pieces = (0..<8).map { _ in 1 + rng.next(step) }
                let chunkSize = [2, 3, 100, 4096, 256 << 10][rng.next(5)]
                let head = [0, 1, 10, 3000][rng.next(4)]
                let batchSize = [1, 3, 1024][rng.next(3)]
                let maxBatchBytes = [1, 100, 4 << 20][rng.next(3)]
                let expected = Self.model(text, batchSize: batchSize, maxBatchBytes: maxBatchBytes, maxRecordBytes: maxRecordBytes)
                let got = try Self.frameInPlace(text, head: head, chunkSize: chunkSize, pieces: pieces, batchSize: batchSize,
                                                maxBatchBytes: maxBatchBytes, maxRecordBytes: maxRecordBytes)
                #expect(got == expected, "round \(round), pieces \(pieces), chunk \(chunkSize), head \(head), batch \(batchSize)/\(maxBatchBytes)")
                if got != expected { return }
            }
        }

        /// Whole files through ``FileReader``, plain and gzip, decoded in place and copied:
        /// the same batches (records, positions, errors) and the same outcome.
        @Test(arguments: [false, true])
        func inPlaceReadsFilesAsCopyingDoes(gzip: Bool) throws {
            var rng = SplitMix64(seed: gzip ? 11 : 12)
            let dir = try TempDir()
            for round in 0..<12 {
                var text = Self.text(&rng, lines: 200 + rng.next(400))
                if round % 3 == 0 { text = Array("\u{FEFF}".utf8) + text }   // a BOM
                var bytes = text
                if gzip {
                    bytes = []
                    text.withUnsafeBytes { GzipMember.compress($0, level: 1, appendingTo: &bytes) }
                }
                let file = try dir.write("f\(round).ndjson" + (gzip ? ".gz" : ""), bytes)
                var options = ReadOptions(format: .ndjson, batchSize: [1, 7, 1024][round % 3], maxRecordBytes: [40, 2000][round % 2],
                                          maxBatchBytes: [100, 4 << 20][rng.next(2)], chunkSize: [3, 1000, 20_000, 256 << 10][round % 4])
                let (inPlace, placed) = readAll(file, options)
                options.copiesDecodedBytes = true
                let (copying, copied) = readAll(file, options)
                #expect(inPlace == copying, "round \(round)")
                #expect(placed.map(\.index) == copied.map(\.index) && texts(placed) == texts(copied), "round \(round)")
                #expect(slots(placed).map { [$0.line, $0.offset] } == slots(copied).map { [$0.line, $0.offset] })
                #expect(placed.map(\.errors) == copied.map(\.errors), "round \(round)")
                #expect(inPlace.records > 0)
                // The two paths did run: in place, records past the head keep the line
                // breaks between them; copied, they are back to back.
                func hasGaps(_ batch: Batch) -> Bool { zip(batch.records, batch.records.dropFirst()).contains { $0.end < $1.start } }
                #expect(placed.contains(where: hasGaps) == (options.batchSize > 1) && !copied.contains(where: hasGaps))
            }
        }

        /// A random NDJSON-ish text: short and long lines, blank lines, CRs, tabs and
        /// runs of blanks around (and at the end of) long lines.
        static func text(_ rng: inout SplitMix64, lines: Int) -> [UInt8] {
            var out: [UInt8] = []
            let blanks: [UInt8] = [0x20, 0x09, 0x0D]
            for _ in 0..<lines {
                for _ in 0..<rng.next(3) { out.append(blanks[rng.next(3)]) }
                let length = [0, 1, 5, 20, 39, 40, 41, 300, 1023, 1024, 1025, 2000, 2500][rng.next(13)]
                for i in 0..<length { out.append(i == 0 ? 0x7B : UInt8(0x61 + rng.next(26))) }
                let tail = [0, 1, 2, 50, 1100, 3000][rng.next(6)]
                for _ in 0..<tail { out.append(blanks[rng.next(3)]) }
                if rng.next(7) == 0 && length > 0 { out.append(0x7D) }   // a non-blank after blanks
                out.append(0x0A)
            }
            if rng.next(2) == 0 { out.removeLast() }   // no newline at the end
            return out
        }

        @Test(arguments: [5, 40, 2000])
        func byteFillFramesAsTheRulesSay(maxRecordBytes: Int) throws {
            var rng = SplitMix64(seed: UInt64(maxRecordBytes))
            for round in 0..<60 {
                let text = Self.text(&rng, lines: 1 + rng.next(40))
                var cuts: [Int] = []
                let step = [1, 2, 7, 64, 1000, 5000][round % 6]
                var at = 0
                while at < text.count {
                    at += 1 + rng.next(step)
                    cuts.append(min(at, text.count))
                }
                let batchSize = [1, 3, 1024][rng.next(3)]
                let maxBatchBytes = [1, 100, 4 << 20][rng.next(3)]
                let expected = Self.model(text, batchSize: batchSize, maxBatchBytes: maxBatchBytes, maxRecordBytes: maxRecordBytes)
                let got = try Self.frame(text, cuts: cuts, batchSize: batchSize, maxBatchBytes: maxBatchBytes, maxRecordBytes: maxRecordBytes)
                #expect(got == expected, "round \(round), step \(step), batch \(batchSize)/\(maxBatchBytes)")
                if got != expected { return }
            }
        }

        @Test func aBatchLargerThanItsReserveGrowsIntact() throws {
            // Each batch reserves a quarter more than the last: a much longer one grows.
            var text: [UInt8] = Array("{\"a\":1}\n{\"b\":2}\n".utf8)
            let long = "{\"c\":\"" + String(repeating: "z", count: 200_000) + "\"}\n"
            text += Array(long.utf8) + Array(long.utf8)
            let got = try Self.frame(text, cuts: [3, 17, 50_000, 300_000], batchSize: 2, maxBatchBytes: 4 << 20, maxRecordBytes: 1 << 20)
            #expect(got == Self.model(text, batchSize: 2, maxBatchBytes: 4 << 20, maxRecordBytes: 1 << 20))
            #expect(got.batches.count == 2)
        }
    }
}
