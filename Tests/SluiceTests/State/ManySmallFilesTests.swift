import Foundation
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// The per-file costs cut for many small files (issue 10): the ledger read in one
/// transaction per chunk of files, the scanner's one `lstat` per file, the output's
/// gathered writes, and the executor waking only threads with work. Each must decide
/// exactly what the per-file version decided.
@Suite struct ManySmallFilesTests {
    /// A ledger whose pipeline `t` has `done` done files and `failed` files failed `times` times.
    static func ledger(in dir: URL, done: [String], failed: [String], times: Int) throws -> Ledger {
        let ledger = try Ledger(directory: dir.path)
        let outcomes = done.map { Ledger.FileOutcome(path: $0, size: 10, mtime: 100, fingerprint: "00000000000000aa", status: .done) }
            + failed.map { Ledger.FileOutcome(path: $0, size: 20, mtime: 200, status: .failed, error: "bad") }
        for run in 0..<max(1, times) {
            let id = "r\(run)"
            try ledger.prepare(runID: id, pipeline: "t", outputs: ["o\(run)"], files: run == 0 ? outcomes : outcomes.filter { $0.status == .failed })
            try ledger.finalize(runID: id)
        }
        return ledger
    }

    @Test func recordsInOneTransactionAreTheLookupsOneByOne() throws {
        let dir = TestSupport.temporaryDirectory("sluice-records")
        defer { TestSupport.cleanup(dir) }
        let ledger = try Self.ledger(in: dir, done: ["a", "c"], failed: ["b"], times: 2)
        let paths = ["a", "b", "c", "d", "a"]
        let records = try ledger.records(pipeline: "t", paths: paths)
        #expect(records.count == paths.count)
        for (path, record) in zip(paths, records) {
            #expect(record.entry == (try ledger.entry(pipeline: "t", path: path)), "\(path)")
            #expect(record.failures == (try ledger.failures(pipeline: "t", path: path)), "\(path)")
        }
        #expect(records[0].entry?.runID == "r0" && records[1].failures?.count == 2 && records[3] == Ledger.Record())
        // Only what is asked for; another pipeline sees nothing.
        let entriesOnly = try ledger.records(pipeline: "t", paths: ["a", "b"], entries: true, failures: false)
        #expect(entriesOnly[0].entry != nil && entriesOnly[1].failures == nil)
        #expect(try ledger.records(pipeline: "t", paths: ["a"], entries: false, failures: false) == [Ledger.Record()])
        #expect(try ledger.records(pipeline: "other", paths: ["a", "b"]) == [Ledger.Record(), Ledger.Record()])
        // The transaction is over: the ledger still takes a run.
        try ledger.prepare(runID: "next", pipeline: "t", outputs: ["o"], files: [Ledger.FileOutcome(path: "d", size: 1, mtime: 1, fingerprint: "01", status: .done)])
        try ledger.finalize(runID: "next")
        #expect(try ledger.records(pipeline: "t", paths: ["d"])[0].entry?.runID == "next")
    }

    /// A pipeline with done files but no failures, and one the ledger has never seen: the
    /// lookups that cannot find anything are skipped, and the answers are the same.
    @Test func recordsOfAPipelineWithoutRowsAreEmpty() throws {
        let dir = TestSupport.temporaryDirectory("sluice-records-empty")
        defer { TestSupport.cleanup(dir) }
        let ledger = try Self.ledger(in: dir, done: ["a", "b"], failed: [], times: 1)
        let records = try ledger.records(pipeline: "t", paths: ["a", "x", "b"])
        #expect(records.map { $0.entry?.runID } == ["r0", nil, "r0"])
        #expect(records.allSatisfy { $0.failures == nil })
        #expect(try ledger.records(pipeline: "fresh", paths: ["a", "b"]) == [Ledger.Record(), Ledger.Record()])
        // A failure recorded later is found by the next lookup.
        try ledger.recordFailures(runID: "f1", pipeline: "t", files: [Ledger.FileOutcome(path: "x", size: 3, mtime: 4, status: .failed, error: "e")])
        #expect(try ledger.records(pipeline: "t", paths: ["x"])[0].failures?.count == 1)
    }

    /// More files than one lookup chunk, done, poison and new ones spread over the chunks:
    /// the plan is the one its per-file lookups made.
    @Test func aPlanOverManyChunksDecidesEveryFileAsBefore() throws {
        let dir = TestSupport.temporaryDirectory("sluice-plan-chunks")
        defer { TestSupport.cleanup(dir) }
        let count = 2 * IncrementalPlan.lookupChunk + 7
        let names = (0..<count).map { String(format: "f%05d.ndjson", $0) }
        let done = names.enumerated().filter { $0.offset % 3 == 0 }.map(\.element)
        let poison = names.enumerated().filter { $0.offset % 7 == 1 }.map(\.element)
        let ledger = try Self.ledger(in: dir, done: done, failed: poison, times: 4)
        var files: [InputFile] = []
        for (i, name) in names.enumerated() {
            let isPoison = i % 7 == 1
            let isDone = i % 3 == 0 && !isPoison
            files.append(InputFile(relativePath: name, path: "/nonexistent/\(name)", size: isPoison ? 20 : 10,
                                   mtime: isDone ? 100 : (isPoison ? 200 : 300)))
        }
        let config = IncrementalConfig(minAge: 0, onChange: .reprocess, maxRetries: 2)
        let plan = try IncrementalPlan.make(files: files, ledger: ledger, pipeline: "t", config: config, full: false, retryFailed: false)
        let expectedPoison = names.enumerated().filter { $0.offset % 7 == 1 }.map(\.element)
        let expectedDone = names.enumerated().filter { $0.offset % 3 == 0 && $0.offset % 7 != 1 }.count
        #expect(plan.poison == expectedPoison)
        #expect(plan.skippedDone == expectedDone)
        #expect(plan.items.count == count - expectedPoison.count - expectedDone)
        #expect(plan.items.map(\.file.relativePath) == names.enumerated().filter { $0.offset % 7 != 1 && $0.offset % 3 != 0 }.map(\.element))
        // --full reads every file but the poison; --retry-failed also those.
        let full = try IncrementalPlan.make(files: files, ledger: ledger, pipeline: "t", config: config, full: true, retryFailed: false)
        #expect(full.items.count == count - expectedPoison.count && full.skippedDone == 0)
        let retry = try IncrementalPlan.make(files: files, ledger: ledger, pipeline: "t", config: config, full: false, retryFailed: true)
        #expect(retry.poison.isEmpty && retry.items.count == count - expectedDone)
    }

    @Test func pathsSortByTheirBytes() {
        let names = ["b", "a", "ab", "a/b", "a-b", "A", "é", "e", "z", "ä/x", "", "a\u{0}", "😀", "\u{7F}"]
        let sorted = names.sorted { DirectoryScanner.bytesPrecede($0, $1) }
        #expect(sorted == names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        // A bridged or lazily made string (no contiguous UTF-8) sorts the same.
        let other = String(decoding: Array("ab".utf8), as: UTF8.self)
        #expect(DirectoryScanner.bytesPrecede("a", other) && !DirectoryScanner.bytesPrecede(other, "a"))
        #expect(!DirectoryScanner.bytesPrecede("same", "same"))
    }

    @Test func theScannerStillSeesLinksFilesAndProblems() throws {
        let dir = TestSupport.temporaryDirectory("sluice-scan-lstat")
        defer { TestSupport.cleanup(dir) }
        try TestSupport.write("{}\n", to: dir.appendingPathComponent("in/a.ndjson"))
        try TestSupport.write("{}\n{}\n", to: dir.appendingPathComponent("in/sub/b.ndjson"))
        try TestSupport.write("{}\n", to: dir.appendingPathComponent("outside.ndjson"))
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("in/inside-link.ndjson").path,
                                                   withDestinationPath: dir.appendingPathComponent("in/a.ndjson").path)
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("in/out-link.ndjson").path,
                                                   withDestinationPath: dir.appendingPathComponent("outside.ndjson").path)
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("in/dangling.ndjson").path,
                                                   withDestinationPath: dir.appendingPathComponent("nothing").path)
        let root = dir.appendingPathComponent("in").path
        let within = try DirectoryScanner(root: root).scan()
        #expect(within.map(\.relativePath) == ["a.ndjson", "dangling.ndjson", "inside-link.ndjson", "out-link.ndjson", "sub/b.ndjson"])
        let byName = Dictionary(uniqueKeysWithValues: within.map { ($0.relativePath, $0) })
        #expect(byName["a.ndjson"]?.problem == nil && byName["a.ndjson"]?.size == 3 && byName["a.ndjson"]!.mtime > 0)
        #expect(byName["sub/b.ndjson"]?.size == 6)
        #expect(byName["inside-link.ndjson"]?.problem == nil && byName["inside-link.ndjson"]?.size == 3)
        #expect(byName["out-link.ndjson"]?.problem?.contains("outside the input directory") == true)
        #expect(byName["dangling.ndjson"]?.problem == "dangling symbolic link")
        let never = try DirectoryScanner(root: root, symlinks: .never).scan()
        #expect(never.filter { $0.problem == nil }.map(\.relativePath) == ["a.ndjson", "sub/b.ndjson"])
        let always = try DirectoryScanner(root: root, symlinks: .always).scan()
        #expect(always.filter { $0.problem == nil }.map(\.relativePath) == ["a.ndjson", "inside-link.ndjson", "out-link.ndjson", "sub/b.ndjson"])
    }

    static func contents(_ path: String) -> [UInt8] {
        Array((try? Data(contentsOf: URL(fileURLWithPath: path))) ?? Data())
    }

    @Test func gatheredWritesReachTheFileAndRollBack() throws {
        let dir = TestSupport.temporaryDirectory("sluice-gathered")
        defer { TestSupport.cleanup(dir) }
        let file = try OutputFile(path: dir.appendingPathComponent("out.ndjson").path, runID: "r")
        var expected: [UInt8] = []
        func add(_ bytes: [UInt8]) throws {
            try file.write(bytes)
            expected += bytes
            #expect(file.size == expected.count)
        }
        try add(Array("one\n".utf8))
        try add([])
        #expect(Self.contents(file.temporaryPath).isEmpty)   // gathered, not written yet
        try add(Array("two\n".utf8))
        try file.truncate(to: 4)                              // a rollback inside what is gathered
        expected.removeLast(4)
        try add([UInt8](repeating: 0x61, count: OutputFile.bufferLimit - 2))   // with the 4 gathered, past the limit
        #expect(Self.contents(file.temporaryPath).count == 4)
        try add(Array("three\n".utf8))                        // past the limit again: the gathered bytes are written
        #expect(Self.contents(file.temporaryPath).count == 4 + OutputFile.bufferLimit - 2)
        try add([UInt8](repeating: 0x62, count: OutputFile.bufferLimit + 1))   // large: written at once
        let mark = file.size
        try add(Array("four\n".utf8))
        try file.truncate(to: 10)                             // a rollback past what is on disk
        expected.removeLast(expected.count - 10)
        #expect(file.size == 10)
        try add(Array("five\n".utf8))
        try file.truncate(to: mark)                           // past the end: nothing to cut
        try file.seal()
        #expect(Self.contents(file.temporaryPath) == expected)
        // Reopened after the seal (a rollback across a rotation), cut, and appended to.
        try file.reopen(truncatingTo: 4)
        expected.removeLast(expected.count - 4)
        try add(Array("six\n".utf8))
        try file.reopen(truncatingTo: file.size)               // nothing to cut: appends go on at the end
        try add(Array("seven\n".utf8))
        try file.commit()
        #expect(Self.contents(dir.appendingPathComponent("out.ndjson").path) == expected)
        #expect(String(decoding: expected, as: UTF8.self) == "one\nsix\nseven\n")
    }

    @Test func aSealedFileKeepsNoBufferAndReopensAtItsEnd() throws {
        let dir = TestSupport.temporaryDirectory("sluice-gathered-seal")
        defer { TestSupport.cleanup(dir) }
        let file = try OutputFile(path: dir.appendingPathComponent("m.ndjson").path, runID: "r")
        try file.write(Array("a\n".utf8))
        try file.seal()
        #expect(Self.contents(file.temporaryPath) == Array("a\n".utf8))
        try file.reopen(truncatingTo: 2)
        try file.write(Array("b\n".utf8))
        try file.seal()
        #expect(Self.contents(file.temporaryPath) == Array("a\nb\n".utf8))
        file.discard()
        #expect(!FileManager.default.fileExists(atPath: file.temporaryPath))
    }

    // MARK: Wake-ups

    static func scheduler(_ shapes: [StageScheduler.StageShape]) -> StageScheduler {
        StageScheduler(stages: shapes, fileCount: 4)
    }

    @Test func aCrewHasWorkOnlyWhenTakeWouldGiveItSome() {
        var s = Self.scheduler([.init(workers: 1, queue: 1), .init(workers: 1, queue: 1, isBlocking: true), .init(workers: 1, queue: 1)])
        #expect(!s.hasWork(on: .shared) && !s.hasWork(on: .dedicated(stage: 1)))
        #expect(s.admitsReaders)
        #expect(s.submit(Batch(file: 0, index: 0)) == .accepted)
        #expect(s.hasWork(on: .shared) && !s.hasWork(on: .dedicated(stage: 1)))
        #expect(!s.admitsReaders)   // the first lane (queue 1) is full
        guard case .run(0, let batch)? = s.take(on: .shared) else { Issue.record("no work"); return }
        #expect(!s.hasWork(on: .shared))   // its only batch is running: a woken thread would find nothing
        #expect(s.admitsReaders)
        // Queued at the blocking stage: its own thread has work, the shared ones none.
        #expect(s.complete(stage: 0, batch: batch, fuseOn: .shared) == nil)
        #expect(s.hasWork(on: .dedicated(stage: 1)) && !s.hasWork(on: .shared))
        guard case .run(1, let second)? = s.take(on: .dedicated(stage: 1)) else { Issue.record("no work"); return }
        _ = s.complete(stage: 1, batch: second, fuseOn: .dedicated(stage: 1))
        #expect(s.hasWork(on: .shared) && !s.hasWork(on: .dedicated(stage: 1)))
        guard case .run(2, _)? = s.take(on: .shared) else { Issue.record("no work"); return }
        s.handOff(stage: 2)
        #expect(!s.hasWork(on: .shared))
        _ = s.handedOff(encodeSeconds: 0)
        // The input closes: the finishes (and then the exits) are work for every crew.
        s.closeInput()
        #expect(s.hasWork(on: .shared) && s.hasWork(on: .dedicated(stage: 1)))
        var finished = 0
        while case .finish? = s.take(on: .shared) { finished += 1 }
        #expect(finished == 3)
        #expect(s.take(on: .shared).map { if case .exit = $0 { true } else { false } } == true)
        #expect(s.hasWork(on: .shared) && s.hasWork(on: .dedicated(stage: 1)))   // exit
    }

    @Test func cancellingLetsEveryWaiterGo() {
        var s = Self.scheduler([.init(workers: 1, queue: 1)])
        #expect(s.submit(Batch(file: 0, index: 0)) == .accepted)
        #expect(!s.admitsReaders)
        s.cancel()
        #expect(s.admitsReaders && s.hasWork(on: .shared))
    }

    // MARK: Per-file encoding

    @Test func journalFileObjectsEncodeAsTheirDictionaries() {
        let files = [
            Ledger.FileOutcome(path: "a/b.ndjson", size: 12, mtime: 1_700_000_000_123_456_789, fingerprint: "00ff00ff00ff00ff", status: .done),
            Ledger.FileOutcome(path: "é \"quoted\"\n.json", size: 0, mtime: 0, status: .unchanged),
            Ledger.FileOutcome(path: "m.ndjson", size: 5, mtime: 7, fingerprint: "01", status: .done, outputs: ["m.ndjson.gz", "errors-x.ndjson"]),
            Ledger.FileOutcome(path: "f", size: 1, mtime: 2, status: .failed, error: "bad"),
        ]
        var typed = JSONWriter(), generic = JSONWriter()
        #expect(LedgerJournal.encode(["run": "r", "files": LedgerJournal.JournalFiles(files: files)], to: &typed))
        #expect(LedgerJournal.encode(["run": "r", "files": files.map(LedgerJournal.fileObject)], to: &generic))
        #expect(typed.bytes == generic.bytes)
        #expect(String(decoding: typed.bytes, as: UTF8.self).hasPrefix(#"{"files":[{"fingerprint":"00ff00ff00ff00ff","mtime":1700000000123456789,"path":"a/b.ndjson""#))
    }

    /// The byte-by-byte judgement the eight-byte scan must agree with.
    static func controlBytes(_ bytes: [UInt8]) -> (control: Int, zeros: Int, first: Int?) {
        var control = 0, zeros = 0
        var first: Int?
        for (i, byte) in bytes.prefix(FormatSniffer.textSample).enumerated()
        where byte < 0x20 && byte != 0x09 && byte != 0x0A && byte != 0x0C && byte != 0x0D || byte == 0x7F {
            control += 1
            if byte == 0 { zeros += 1 }
            if first == nil { first = i }
        }
        return (control, zeros, first)
    }

    @Test func theTextCheckJudgesEveryByteAsBefore() {
        var generator = SystemRandomNumberGenerator()
        var samples: [[UInt8]] = [[], Array("{\"a\":1}\n".utf8), Array(repeating: 0x41, count: 4096 + 13)]
        // Each special byte at each position of a word, and words of text around it.
        for special: UInt8 in [0x00, 0x01, 0x09, 0x0A, 0x0C, 0x0D, 0x1F, 0x20, 0x7E, 0x7F, 0x80, 0x9F, 0xFF] {
            for position in 0..<17 {
                var bytes = Array("{\"k\":\"value value\"}\n".utf8)
                bytes += bytes + bytes
                bytes[position] = special
                samples.append(bytes)
            }
        }
        for _ in 0..<200 {
            let count = Int.random(in: 250...300, using: &generator)
            samples.append((0..<count).map { _ in
                Bool.random(using: &generator) ? UInt8.random(in: 0x20...0x7E, using: &generator) : UInt8.random(in: 0...255, using: &generator)
            })
        }
        for bytes in samples {
            let reference = Self.controlBytes(bytes)
            let problem = bytes.withUnsafeBufferPointer { FormatSniffer.textProblem($0) }
            let sample = min(bytes.count, FormatSniffer.textSample)
            let binary = reference.first != nil && sample >= 256
                && (reference.control * 100 >= 8 * sample || reference.zeros * 100 >= sample)
            if binary, let first = reference.first, let problem {
                #expect(problem.contains("\(reference.control) control bytes") && problem.contains("at byte \(first))"), "\(problem)")
            } else if binary {
                // A UTF-16/32 pattern in the first bytes is named before the binary check.
                #expect(problem != nil)
            } else if let problem {
                #expect(!problem.hasPrefix("binary data"), "\(problem)")
            }
        }
    }

    @Test func aSuffixPatternMatchesAsTheGeneralMatcher() throws {
        let fast = try Glob("**/*.json.gz")
        let general = try Glob("**/*.json.g[z]")   // a set: the general matcher, same meaning
        let paths = ["a.json.gz", "sub/x.json.gz", "deep/er/x.json.gz", ".json.gz", "x.json.gz/", "x.json", "x.json.gz/y",
                     "", "/", "é.json.gz", "json.gz", "x.JSON.GZ", "x.json.gzz", "a//b.json.gz", "sub/", "x.json.gz.tmp"]
        for path in paths {
            #expect(fast.matches(path) == general.matches(path), "\(path)")
        }
        #expect(fast.matches("sub/x.json.gz") && !fast.matches("x.json") && !fast.matches(""))
        #expect(try Glob("*.json.gz").matches("a.json.gz") && !(try Glob("*.json.gz")).matches("sub/a.json.gz"))
    }
}
