import Foundation
import SluiceCore
#if canImport(Glibc)
import Glibc
#endif

/// Reads one input file into batches of framed records.
///
/// The file is read in chunks, decoded when it starts with a codec's magic number (gzip,
/// zstd, bzip2, xz, zlib: see ``Codecs``), and cut
/// into records by format (see ``FormatSniffer``, ``NDJSONFramer``, ``JSONArrayFramer``,
/// ``JSONDocumentFramer``). Records are not parsed: a batch holds each record's bytes and
/// source position, and parse errors surface later, when the batch is indexed.
///
/// ```swift
/// let outcome = FileReader.read(file, fileIndex: 3, options: ReadOptions()) { batch in
///     try queue.push(batch)   // blocks when the queue is full: backpressure
/// }
/// if let failure = outcome.failure { errors.append(failure) }
/// ```
///
/// Memory stays bounded by the options: one read chunk, one inflate chunk, and the batch
/// being filled (at most `maxBatchBytes` plus one record of at most `maxRecordBytes`).
public enum FileReader {
    /// Reads `file` to the end, calling `emit` with each full batch, in order.
    ///
    /// Batches carry `file = fileIndex` and `index = 0, 1, 2, …`; the last one may be short,
    /// and a file without records (or record errors) emits none. Records longer than
    /// `maxRecordBytes` become `limit` errors in the `errors` of the batch being filled.
    ///
    /// - Parameters:
    ///   - file: the file to read; one with a ``InputFile/problem`` fails at once.
    ///   - fileIndex: the file's position in the run's sorted file list.
    ///   - options: format, batch and size limits, read chunk size.
    ///   - emit: receives each batch; if it throws, reading stops and the outcome says
    ///     `cancelled`.
    /// - Returns: counts, and the file-level ``FileReadOutcome/failure`` that stopped the file
    ///   early (kind `io` for open, read and decoding errors, with the offset in the file; kind
    ///   `parse` for a broken or truncated JSON array, with the decoded offset). Batches
    ///   emitted before a failure stay emitted.
    /// - Complexity: O(n) in the decoded size; no per-record allocation.
    public static func read(_ file: InputFile, fileIndex: Int, options: ReadOptions, emit: (Batch) throws -> Void) -> FileReadOutcome {
        var outcome = FileReadOutcome()
        if let problem = file.problem {
            outcome.failure = RecordError(file: file.relativePath, stage: "input", kind: .io, message: problem)
            return outcome
        }
        var input: DecodedInput?
        do throws(InputFault) {
            let readsXML = options.format == .xml || FormatSniffer.framing(forName: file.relativePath, format: options.format) == .xml
            let opened = try DecodedInput(path: file.path, chunkSize: options.chunkSize, codecs: options.codecs, isXML: readsXML,
                                          start: file.start.flatMap { $0.skipsAnything ? $0 : nil })
            input = opened
            try frame(opened, file: file, fileIndex: fileIndex, options: options, outcome: &outcome, emit: emit)
        } catch {
            switch error {
            case .cancelled:
                outcome.cancelled = true
            case .io(let message, let offset):
                outcome.failure = RecordError(file: file.relativePath, stage: "input", kind: .io, message: message, offset: offset)
            case .parse(let message, let offset, let line):
                outcome.failure = RecordError(file: file.relativePath, stage: "input", kind: .parse, message: message, line: line, offset: offset)
            }
        }
        input?.stopInflatingAhead()
        // A grown file's old bytes were read (and hashed) by the plan, not here.
        outcome.fileBytes = (input?.fileBytes ?? 0) - (file.start.map { $0.skipsAnything ? $0.offset : 0 } ?? 0)
        outcome.decodedBytes = input?.decodedBytes ?? 0
        // An InputFile made by hand (mtime 0, as `sluice test` and tests make them) has no
        // scan to compare with.
        if outcome.failure == nil && !outcome.cancelled && file.mtime != 0, let input {
            TestHook.pause("after-read") {
                ProcessInfo.processInfo.environment["SLUICE_TEST_RELEASE_FILE"].map { access($0, F_OK) == 0 } ?? true
            }
            if let change = change(of: file, bytesRead: input.fileBytes) {
                outcome.failure = RecordError(file: file.relativePath, stage: "input", kind: .io, message: change)
            }
        }
        outcome.warnings = input?.warnings ?? []
        outcome.inflatedAhead = input?.inflatedAhead ?? false
        if outcome.failure == nil && !outcome.cancelled { outcome.fingerprint = input?.fingerprint }
        return outcome
    }

    /// Why `file` is not the file the scan saw, now that it has been read — it shrank,
    /// grew, or was rewritten meanwhile — or nil. A read of a changing file may be torn
    /// (old bytes and new), so the file fails (kind `io`) and the next run reads it again.
    static func change(of file: InputFile, bytesRead: Int) -> String? {
        var info = stat()
        guard stat(file.path, &info) == 0 else {
            return "the file was removed or replaced while it was being read (\(String(cString: strerror(errno)))); not committed, retried next run"
        }
        let size = Int(info.st_size)
        let mtime = Int(info.st_mtim.tv_sec) * 1_000_000_000 + Int(info.st_mtim.tv_nsec)
        guard size != file.size || mtime != file.mtime || bytesRead != file.size else { return nil }
        var what: [String] = []
        if size != file.size { what.append("size \(file.size) → \(size) bytes") }
        if bytesRead != file.size { what.append("\(bytesRead) of \(file.size) bytes read") }
        if mtime != file.mtime { what.append("modification time moved") }
        return "the file changed while it was being read (\(what.joined(separator: ", "))); not committed, retried next run"
    }

    private static func frame(_ input: DecodedInput, file: InputFile, fileIndex: Int, options: ReadOptions,
                              outcome: inout FileReadOutcome, emit: (Batch) throws -> Void) throws(InputFault) {
        let named = FormatSniffer.framing(forName: file.relativePath, format: options.format)
        // A grown NDJSON file: only its new lines, numbered on from the old ones.
        if let start = file.start, start.skipsAnything {
            let assembler = BatchAssembler(fileIndex: fileIndex, file: file.relativePath, options: options)
            var framer = NDJSONFramer(assembler: assembler, maxRecordBytes: options.maxRecordBytes,
                                      startOffset: start.decodedOffset, startLine: start.line)
            try run(&framer, head: start.carried[...], input: input, outcome: &outcome, emit: emit)
            return
        }

        // Collect just enough of the start to skip a BOM and, if needed, sniff the format.
        var head: [UInt8] = []
        var isComplete = false
        var bom: Int?
        var framing = named
        while true {
            bom = bom ?? FormatSniffer.bomLength(head, isComplete: isComplete)
            if let bom, framing == nil {
                framing = FormatSniffer.framing(forHead: head[bom...], format: options.format,
                                                isComplete: isComplete, lineLimit: options.maxRecordBytes)
            }
            if bom != nil && framing != nil || framing == .xml { break }
            let started = monotonicSeconds()
            let next = try input.next()
            outcome.timing.decodeSeconds += monotonicSeconds() - started
            guard let chunk = next else {
                isComplete = true
                continue
            }
            head.append(contentsOf: chunk)
        }
        let start = bom ?? 0
        let assembler = BatchAssembler(fileIndex: fileIndex, file: file.relativePath, options: options)
        switch framing ?? .ndjson {
        case .ndjson:
            var framer = NDJSONFramer(assembler: assembler, maxRecordBytes: options.maxRecordBytes, startOffset: start)
            if input.decodesInPlace && !options.copiesDecodedBytes {
                try runInPlace(&framer, head: head[start...], input: input, chunkSize: options.chunkSize, outcome: &outcome, emit: emit)
            } else {
                try run(&framer, head: head[start...], input: input, outcome: &outcome, emit: emit)
            }
        case .jsonArray:
            var framer = JSONArrayFramer(assembler: assembler, maxRecordBytes: options.maxRecordBytes, startOffset: start)
            try run(&framer, head: head[start...], input: input, outcome: &outcome, emit: emit)
        case .jsonDocument:
            var framer = JSONDocumentFramer(assembler: assembler, maxRecordBytes: options.maxRecordBytes, startOffset: start)
            try run(&framer, head: head[start...], input: input, outcome: &outcome, emit: emit)
        case .xml:
            // libxml2 reads the BOM and the encoding declaration itself. Parsing XML costs
            // several times what gunzip does: inflate (and pre-scan) on a helper thread,
            // and parse a large file's segments on several cores when there are cores to spare.
            if let threads = XMLSegmentedFramer.threads(for: options.xml, concurrentFiles: options.concurrentFiles) {
                var framer = XMLSegmentedFramer(assembler: assembler, options: options.xml, maxRecordBytes: options.maxRecordBytes, threads: threads,
                                                source: .init(path: file.path, chunkSize: options.chunkSize, codecs: options.codecs))
                defer { outcome.xmlSegments = framer.splitSegments }
                try run(&framer, head: head[...], input: input, outcome: &outcome, emit: emit) { $0.scanAhead(on: input) }
                return
            }
            var framer = XMLFramer(assembler: assembler, options: options.xml, maxRecordBytes: options.maxRecordBytes, fast: true,
                                   source: .init(path: file.path, chunkSize: options.chunkSize, codecs: options.codecs))
            // Inflating ahead on a helper thread pays only with a core to spare for it: with
            // as many files read at once as cores (4 XML files, `readers: 2`, 2 cores), the
            // helpers were 2 more CPU-bound threads, and their hand-offs cost 16 % more CPU
            // than inflating on the reader (the markup guard then runs in `consume`).
            let ahead = inflatesAhead(concurrentFiles: options.concurrentFiles)
            try run(&framer, head: head[...], input: input, outcome: &outcome, emit: emit) { if ahead { $0.scanAhead(on: input) } }
        }
    }

    /// Whether an unsplit XML file is inflated ahead on a helper thread: when the files the
    /// run reads at once (``ReadOptions/concurrentFiles``) leave a core for it.
    static func inflatesAhead(concurrentFiles: Int, cores: Int = ProcessorCount.available) -> Bool {
        cores > max(1, concurrentFiles)
    }

    /// As ``run(_:head:input:outcome:emit:afterHead:)`` for NDJSON after the head, with
    /// the input decoded straight into the batches' storage (see
    /// ``NDJSONFramer/startInPlace()``): the same batches, records and errors.
    private static func runInPlace(_ framer: inout NDJSONFramer, head: ArraySlice<UInt8>, input: DecodedInput, chunkSize: Int,
                                   outcome: inout FileReadOutcome, emit: (Batch) throws -> Void) throws(InputFault) {
        defer {
            outcome.batches = framer.assembler.emittedBatches
            outcome.records = framer.assembler.emittedRecords
        }
        do throws(InputFault) {
            try head.withUnsafeBufferPointer { (buffer) throws(InputFault) in
                try framer.consume(buffer, emit: emit)
            }
            framer.startInPlace()
            while true {
                let target = framer.decodeTarget(chunkSize: chunkSize)
                let started = monotonicSeconds()
                let decoded = try input.next(into: target)
                outcome.timing.decodeSeconds += monotonicSeconds() - started
                guard let decoded else { break }
                try framer.consumeDecoded(decoded, emit: emit)
            }
            try framer.finish(emit: emit)
        } catch {
            if case .cancelled = error { throw error }
            try framer.flushFramed(emit: emit)
            throw error
        }
    }

    private static func run<Framer: RecordFramer>(_ framer: inout Framer, head: ArraySlice<UInt8>, input: DecodedInput,
                                                  outcome: inout FileReadOutcome, emit: (Batch) throws -> Void,
                                                  afterHead: (inout Framer) -> Void = { _ in }) throws(InputFault) {
        // Keep the counts current even when a fault or cancellation ends the file early.
        defer {
            outcome.batches = framer.assembler.emittedBatches
            outcome.records = framer.assembler.emittedRecords
        }
        do throws(InputFault) {
            try head.withUnsafeBufferPointer { (buffer) throws(InputFault) in
                try framer.consume(buffer, emit: emit)
            }
            afterHead(&framer)
            while true {
                let started = monotonicSeconds()
                let next = try input.next()
                outcome.timing.decodeSeconds += monotonicSeconds() - started
                guard let chunk = next else { break }
                try framer.consume(chunk, emit: emit)
            }
            try framer.finish(emit: emit)
        } catch {
            // A file-level fault: still hand over the records framed so far. The sink
            // withholds every record of a failed file, and counting them lets the
            // file's error line say how many records were discarded.
            if case .cancelled = error { throw error }
            try framer.flushFramed(emit: emit)
            throw error
        }
    }
}
