import SluiceCore
#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Frames one XML file on several cores: the document is cut into segments directly
/// below the root, and each segment is parsed by its own libxml2 parser on a pool thread,
/// while the reader goes on reading (and, for gzip, inflating and pre-scanning ahead).
///
/// How a segment is parsed: a cut scan (``XMLMarkupGuard`` with `cutsOnly`, on the
/// inflating thread for gzip) follows element depth from `<` to `<` and notes the `<` of
/// a start tag directly below the root every ``XMLOptions/segmentBytes``. It judges only
/// the prolog and the root's start tag; each segment's parser checks its own bytes (the
/// fast tokenizer bounds every token itself, and a segment it hands to libxml2 goes
/// through the whole markup guard first, on the parsing thread). As the guard stops an
/// unsplit read at a read chunk, a segment is handed over only once the segments that
/// share its last read chunk are parsed without a guard verdict. Segment 0 runs from the
/// start of the file to the first cut; segment *k* from cut *k* to cut *k+1*. Every
/// segment but the first is parsed after the document's own prolog — the bytes up to and
/// including the root's start tag, replayed as written: XML declaration and encoding,
/// DOCTYPE and its internal subset (so entity and attribute rules are the same, and a
/// reference to a declared entity still fails the file), and the root's namespace
/// declarations — and every segment but the last is closed with the root's end tag. Each
/// parser therefore sees a complete document whose records are exactly the segment's,
/// with the same namespace context, so each record's JSON is byte for byte what one
/// parser would write. Lines and offsets are shifted back to the file's (the reader
/// counts the newlines before each cut); records are handed over in document order
/// through the file's one ``BatchAssembler``, so batches, output and error lines do not
/// depend on the segment size or the thread count.
///
/// A cut is correct exactly when the segment before it parses to its closing tag: any
/// other state at the cut (inside a comment, CDATA, a tag or a record) leaves the segment
/// unterminated or mismatched. So any fault in a segment — a malformed document, a
/// markup-guard verdict, or a cut the scan got wrong — is not reported from the segment:
/// the pool stops and the file is read again from its start by one ordinary
/// ``XMLFramer`` that leaves out the records already handed over. Its verdict (message,
/// line, column, offset, records before the fault) is the unsplit parse's, by
/// construction.
///
/// Not split (one ordinary parser, as the file is read): a document whose prolog up to the
/// root's start tag is over 64 KiB, whose root may itself be a record, that contains a NUL
/// byte (UTF-16) or that the guard cannot follow (EBCDIC); a file with no cut (smaller than
/// a segment, or one huge element below the root) is parsed as one segment. Memory: at
/// most `threads + 3` segments and their records at once. The reader thread parses too:
/// `threads - 1` pool threads, and the reader takes a waiting segment rather than sit idle
/// until the oldest one is done.
final class XMLSegmentedFramer: RecordFramer {
    /// Where to read the file again after a fault.
    struct Source {
        var path: String
        var chunkSize: Int
        var codecs: CodecOptions
    }

    private let options: XMLOptions
    private let maxRecordBytes: Int
    private let source: Source
    private let threads: Int
    private var own: BatchAssembler
    private let scanner: CutScanner
    private var scannedAhead: DecodedInput?

    private enum Mode {
        /// Cutting into segments.
        case splitting
        /// One parser for the rest of the file, from segment `index` on (no cut was found
        /// within the size limit, or the document cannot be split).
        case streaming(XMLFramer, index: Int)
        /// The file is being (or has been) read again by one parser after a fault.
        case reread(XMLFramer)
    }
    private var mode = Mode.splitting

    // The segment being filled.
    private var segment: [UInt8] = []
    private var segmentStart = 0
    /// Newlines in the segments handed over so far (before `segmentStart` once every
    /// dispatched segment is handed over).
    private var lineBase = 0
    /// Buffers of parsed segments, for the next segments to fill.
    private var spareBuffers: [[UInt8]] = []
    /// The record bytes of parsed segments, emptied, for the next segments' parsers to
    /// write into: a fresh array grows by doubling, with copies and page faults.
    private var spareOutputs: [[UInt8]] = []

    /// Where each dispatched segment not yet handed over starts, and how far the read had
    /// come when it was cut (`holdUntil`: the end of the chunk holding its last byte, or
    /// later). The guard's verdicts stop a file at a read chunk (before libxml2 sees
    /// it): a segment is handed over only when every segment starting before its
    /// `holdUntil` has been parsed without a guard verdict, so that no record of a chunk
    /// the unsplit read rejects is handed over (see ``handNext(_:emit:)``).
    private var spans: [Int: (start: Int, holdUntil: Int)] = [:]
    /// True once the last segment has been dispatched (no segment is being filled).
    private var allDispatched = false
    private var received = 0
    private var nextIndex = 0
    private var nextEmit = 0
    /// Records and `limit` errors handed to `own` so far.
    private var committed = 0

    /// The document's bytes up to and including the root's start tag, once known.
    private var prologue: [UInt8]?
    private var prologueNewlines = 0
    private var epilogue: [UInt8] = []
    private var canSplit = true

    private var pool: SegmentPool?

    /// Segments cut so far (tests).
    var segmentCount: Int { nextIndex }

    /// The segments the file was parsed in on several threads (0 when one parser read it
    /// whole: too small, not splittable, or read again after a fault).
    var splitSegments: Int {
        switch mode {
        case .splitting: nextIndex > 1 ? nextIndex : 0
        case .streaming(_, let index): index > 0 ? index + 1 : 0
        case .reread: 0
        }
    }

    /// The prolog larger than this is not replayed per segment.
    static let maxPrologue = 64 << 10

    var assembler: BatchAssembler {
        switch mode {
        case .splitting: own
        case .streaming(let framer, _), .reread(let framer): framer.assembler
        }
    }

    init(assembler: BatchAssembler, options: XMLOptions, maxRecordBytes: Int, threads: Int, source: Source) {
        own = assembler
        self.options = options
        self.maxRecordBytes = maxRecordBytes
        self.threads = max(2, threads)
        self.source = source
        // Past the root's start tag the scan only places cuts: each segment's parser
        // checks every byte itself, and the guard runs on a segment before libxml2 sees it.
        scanner = CutScanner(XMLMarkupGuard(maxAttributes: options.maxAttributes, maxTokenBytes: options.maxTokenBytes,
                                            cutSpacing: max(1, options.segmentBytes), cutsOnly: true))
    }

    deinit {
        pool?.stop()
    }

    /// How many parser threads to split a file over, or nil to read it with one
    /// ``XMLFramer``. `auto`: the cores this process may use, less one for each other file
    /// the run reads at once (``ReadOptions/concurrentFiles``), splitting when that leaves
    /// two or more — decided by the config and the file list, not by timing.
    static func threads(for options: XMLOptions, concurrentFiles: Int) -> Int? {
        switch options.split {
        case .off: return nil
        case .always: return max(2, ProcessorCount.available)
        case .auto:
            let free = ProcessorCount.available - (max(1, concurrentFiles) - 1)
            return free >= 2 ? free : nil
        }
    }

    // MARK: RecordFramer

    /// As ``XMLFramer/scanAhead(on:)``: the guard (with its cut-finding) moves to the
    /// inflating thread of `input`.
    func scanAhead(on input: DecodedInput) {
        let scanner = self.scanner
        if input.startInflatingAhead(inspecting: { scanner.scan($0) }) { scannedAhead = input }
    }

    func consume(_ chunk: UnsafeBufferPointer<UInt8>, emit: (Batch) throws -> Void) throws(InputFault) {
        guard chunk.count > 0 else { return }
        let violation = scannedAhead != nil ? scannedAhead!.chunkVerdict : scanner.scan(chunk)
        switch mode {
        case .reread:
            return  // the file was read to its end again already
        case .streaming(let framer, let index):
            if framer.didReread { return }  // the fast path's fallback read the file to its end
            if violation != nil { return try reread(emit: emit) }
            do {
                try framer.consume(chunk, emit: emit)
            } catch {
                if case .cancelled = error { throw error }
                // The unsplit parse itself, or libxml2's re-read of the whole file: its verdict is exact.
                if index == 0 || framer.didReread { throw error }
                try reread(emit: emit)
            }
            return
        case .splitting:
            break
        }
        if violation != nil { return try reread(emit: emit) }
        segment.append(contentsOf: chunk)
        received += chunk.count
        for cut in scanner.takeCuts(below: received) {
            try closeSegment(at: cut, emit: emit)
            if case .splitting = mode {} else { return }
        }
        if case .splitting = mode, segment.count > max(4 * options.segmentBytes, 1 << 20) {
            // No cut within reach: one parser for the rest.
            try startStreaming(emit: emit)
            return
        }
        try drain(waiting: false, emit: emit)
    }

    func finish(emit: (Batch) throws -> Void) throws(InputFault) {
        switch mode {
        case .reread(let framer):
            try framer.flushFramed(emit: emit)
            return
        case .streaming(let framer, let index):
            do {
                try framer.finish(emit: emit)
            } catch {
                if case .cancelled = error { throw error }
                if index == 0 || framer.didReread { throw error }
                try reread(emit: emit)
                if case .reread(let framer) = mode { try framer.flushFramed(emit: emit) }
            }
            return
        case .splitting:
            break
        }
        let lastStart = segmentStart
        let job = makeJob(bytes: segment, isLast: true)
        segment = []
        allDispatched = true
        spans[job.index] = (start: lastStart, holdUntil: 0)
        if pool == nil {
            // One segment: the whole document, parsed here.
            let result = XMLSegmentedFramer.parse(job, options: options, maxRecordBytes: maxRecordBytes, file: own.file, fileIndex: own.batch.file)
            try hand(result, emit: emit)
        } else {
            try dispatch(job, emit: emit)
            try drain(waiting: true, emit: emit)
        }
        if case .reread(let framer) = mode {
            try framer.flushFramed(emit: emit)
            return
        }
        try own.flush(emit: emit)
    }

    func flushFramed(emit: (Batch) throws -> Void) throws(InputFault) {
        switch mode {
        case .reread(let framer), .streaming(let framer, _):
            try framer.flushFramed(emit: emit)
        case .splitting:
            // A read error: hand over what the segments so far hold, as one parser would
            // have before the error — the dispatched ones, then the open one cut short.
            if pool != nil {
                do throws(InputFault) {
                    try drain(waiting: true, force: true, emit: emit)
                } catch {
                    if case .cancelled = error { throw error }
                }
            }
            if case .splitting = mode, !segment.isEmpty {
                var job = makeJob(bytes: segment, isLast: true)
                job.cutShort = true
                segment = []
                let result = XMLSegmentedFramer.parse(job, options: options, maxRecordBytes: maxRecordBytes, file: own.file, fileIndex: own.batch.file)
                try commit(result, emit: emit)
            }
            if case .reread(let framer) = mode {
                try framer.flushFramed(emit: emit)
            } else {
                try own.flush(emit: emit)
            }
        }
    }

    // MARK: Segments

    private func closeSegment(at cut: Int, emit: (Batch) throws -> Void) throws(InputFault) {
        guard cut > segmentStart, cut <= received else { return }
        if prologue == nil {
            guard canSplit, let rootEnd = scanner.rootTagEnd, rootEnd <= cut, rootEnd <= XMLSegmentedFramer.maxPrologue,
                  let root = XMLSegmentedFramer.rootName(segment[0..<rootEnd]), !rootMayBeRecord(root) else {
                canSplit = false
                return try startStreaming(emit: emit)
            }
            prologue = Array(segment[0..<rootEnd])
            prologueNewlines = XMLSegmentedFramer.newlines(segment[0..<rootEnd])
            epilogue = Array("</".utf8) + root + Array(">".utf8)
        }
        let local = cut - segmentStart
        // The bytes past the cut start the next segment, in a buffer a parsed segment gave back.
        var next = spareBuffers.popLast() ?? []
        next.removeAll(keepingCapacity: true)
        next.reserveCapacity(options.segmentBytes + 2 * source.chunkSize)
        next.append(contentsOf: segment[local...])
        segment.removeSubrange(local...)
        let job = makeJob(bytes: segment, isLast: false)
        spans[job.index] = (start: segmentStart, holdUntil: received)
        segment = next
        segmentStart = cut
        if pool == nil { pool = SegmentPool(threads: threads - 1, options: options, maxRecordBytes: maxRecordBytes, file: own.file, fileIndex: own.batch.file) }
        try dispatch(job, emit: emit)
    }

    private func makeJob(bytes: [UInt8], isLast: Bool) -> SegmentJob {
        let index = nextIndex
        nextIndex += 1
        let first = index == 0
        var job = SegmentJob(index: index, prologue: first ? nil : prologue, bytes: bytes, epilogue: isLast ? nil : epilogue,
                             lineShift: first ? 0 : -prologueNewlines,
                             offsetShift: first ? 0 : segmentStart - (prologue?.count ?? 0))
        job.output = spareOutputs.popLast() ?? []
        return job
    }

    private func dispatch(_ job: SegmentJob, emit: (Batch) throws -> Void) throws(InputFault) {
        guard let pool else { return }
        pool.submit(job)
        // Bounded: at most `threads + 1` segments parsed or waiting to be handed over (one
        // more while the oldest waits for the segment being filled: see `spans`).
        while nextIndex - nextEmit > threads + 1 {
            guard try handNext(.wait, emit: emit) else { return }
            if case .splitting = mode {} else { return }
        }
    }

    /// Hands over finished segments in order; with `waiting`, every dispatched one that
    /// can be (with `force`, every one).
    private func drain(waiting: Bool, force: Bool = false, emit: (Batch) throws -> Void) throws(InputFault) {
        guard pool != nil else { return }
        while nextEmit < nextIndex {
            guard try handNext(force ? .force : waiting ? .wait : .noWait, emit: emit) else { return }
            if case .splitting = mode {} else { return }
        }
    }

    private enum Waiting { case noWait, wait, force }

    /// Hands over the oldest segment once it and the segments that share its last read
    /// chunk are parsed (`force`: without looking at those); returns false when that
    /// cannot be yet (`noWait`, or the segment being filled shares the chunk).
    private func handNext(_ waiting: Waiting, emit: (Batch) throws -> Void) throws(InputFault) -> Bool {
        guard let pool else { return false }
        let k = nextEmit
        guard waiting != .noWait || pool.isFinished(k) else { return false }
        if waiting != .force, let hold = spans[k]?.holdUntil {
            var j = k + 1
            while hold > 0 {
                if j == nextIndex {
                    // The segment being filled shares the chunk: not yet.
                    if !allDispatched && segmentStart < hold { return false }
                    break
                }
                guard let start = spans[j]?.start, start < hold else { break }
                if waiting == .noWait && !pool.isFinished(j) { return false }
                parseWaiting(until: j, pool)
                if pool.hasGuardVerdict(j) {
                    // The unsplit read stops at that chunk: so does this one.
                    try reread(emit: emit)
                    return true
                }
                j += 1
            }
        }
        parseWaiting(until: k, pool)
        let result = pool.take(k)
        spans[k] = nil
        try hand(result, emit: emit)
        return true
    }

    /// Waits for segment `index`, parsing waiting segments here meanwhile: the reader
    /// stays busy (one parser fewer to wake up and schedule on a loaded machine).
    private func parseWaiting(until index: Int, _ pool: SegmentPool) {
        while !pool.isFinished(index), let job = pool.takeWaitingJob() {
            pool.store(XMLSegmentedFramer.parse(job, options: options, maxRecordBytes: maxRecordBytes, file: own.file, fileIndex: own.batch.file))
        }
        pool.wait(index)
    }

    private func hand(_ result: consuming SegmentResult, emit: (Batch) throws -> Void) throws(InputFault) {
        nextEmit = result.index + 1
        if let spare = result.spare, spareBuffers.count < threads + 2 { spareBuffers.append(spare) }
        if let fault = result.fault {
            guard result.isWholeDocument else { return try reread(emit: emit) }
            // One parser saw the whole document: its verdict is the unsplit one.
            try commit(result, emit: emit)
            throw fault
        }
        try commit(result, emit: emit)
        if spareOutputs.count < threads + 2 {
            var output = result.batch.bytes
            result.batch = Batch(file: 0, index: 0)
            output.removeAll(keepingCapacity: true)
            spareOutputs.append(output)
        }
    }

    /// Copies a segment's records and `limit` errors into the file's assembler, in order,
    /// their lines shifted by the newlines of the segments before it.
    private func commit(_ result: SegmentResult, emit: (Batch) throws -> Void) throws(InputFault) {
        let lines = lineBase
        lineBase += result.newlines
        let batch = result.batch
        var r = 0
        for (i, record) in batch.records.enumerated() {
            while r < result.rejects.count && result.rejects[r].position <= i {
                try commitReject(result.rejects[r], lines: lines, emit: emit)
                r += 1
            }
            let start = own.batch.bytes.count
            own.batch.bytes.append(contentsOf: batch.bytes[record.start..<record.end])
            try own.commit(start: start, line: record.line + lines, offset: record.offset, emit: emit)
            committed += 1
        }
        while r < result.rejects.count {
            try commitReject(result.rejects[r], lines: lines, emit: emit)
            r += 1
        }
    }

    private func commitReject(_ reject: XMLParseState.Reject, lines: Int, emit: (Batch) throws -> Void) throws(InputFault) {
        try own.recordTooLong(shown: reject.shown, limit: maxRecordBytes, line: reject.line + lines, offset: reject.offset, emit: emit)
        committed += 1
    }

    /// No more cutting: what is buffered and the rest of the file go through one parser.
    private func startStreaming(emit: (Batch) throws -> Void) throws(InputFault) {
        // The rest goes through one parser, which checks every byte itself.
        try drain(waiting: true, force: true, emit: emit)
        guard case .splitting = mode else { return }
        pool?.stop()
        pool = nil
        let index = nextIndex
        // The fast tokenizer, when the document leaves its subset, reads the file again
        // from the start with libxml2, leaving out every record handed over.
        let framer = XMLFramer(assembler: own, options: options, maxRecordBytes: maxRecordBytes, guardsMarkup: false,
                               fast: true, source: source, alreadyHandedOver: committed)
        if index > 0 {
            framer.shiftPositions(line: lineBase - prologueNewlines, offset: segmentStart - (prologue?.count ?? 0))
        }
        mode = .streaming(framer, index: index)
        // The guard's verdicts and cuts are not needed any more: the tokenizer falls back
        // to libxml2 (which has its own guard) from the chunk where it meets anything.
        scanner.stop()
        do {
            if index > 0, let prologue {
                try prologue.withUnsafeBufferPointer { (p) throws(InputFault) in try framer.consume(p, emit: emit) }
            }
            let bytes = segment
            segment = []
            try bytes.withUnsafeBufferPointer { (p) throws(InputFault) in try framer.consume(p, emit: emit) }
        } catch {
            if case .cancelled = error { throw error }
            if index == 0 || framer.didReread { throw error }
            try reread(emit: emit)
        }
    }

    /// After a fault in split mode: stop the pool and read the file again from the start
    /// with one parser, leaving out the records handed over already. Throws that parser's
    /// fault; returns when the document turns out well-formed (a wrong cut).
    private func reread(emit: (Batch) throws -> Void) throws(InputFault) {
        pool?.stop()
        pool = nil
        var skipping = committed
        let base: BatchAssembler
        switch mode {
        case .splitting: base = own
        case .streaming(let framer, _):
            // What the streaming parser handed over is out too (not only the segments before it).
            base = framer.assembler
            skipping = framer.handedOverInFile
        case .reread: return
        }
        let framer = XMLFramer(assembler: base, options: options, maxRecordBytes: maxRecordBytes, skipping: skipping)
        mode = .reread(framer)
        segment = []
        try framer.readWhole(source, emit: emit)
    }

    private func rootMayBeRecord(_ root: [UInt8]) -> Bool {
        for spec in options.records {
            if spec.isAbsolute {
                if spec.steps.count == 1 && XMLSegmentedFramer.stepMatches(spec.steps[0], root, strip: options.stripsNamespaces) { return true }
            } else if XMLSegmentedFramer.stepMatches(spec.steps[0], root, strip: options.stripsNamespaces) {
                return true
            }
        }
        return false
    }

    static func stepMatches(_ step: [UInt8]?, _ qname: [UInt8], strip: Bool) -> Bool {
        guard let step else { return true }
        if strip, let colon = qname.lastIndex(of: UInt8(ascii: ":")) { return step.elementsEqual(qname[(colon + 1)...]) }
        return step == qname
    }

    /// The element name of the start tag at the end of `prolog`.
    static func rootName(_ prolog: ArraySlice<UInt8>) -> [UInt8]? {
        guard let open = prolog.lastIndex(of: UInt8(ascii: "<")) else { return nil }
        var name: [UInt8] = []
        for byte in prolog[(open + 1)...] {
            if byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D || byte == UInt8(ascii: "/") || byte == UInt8(ascii: ">") { break }
            name.append(byte)
        }
        return name.isEmpty ? nil : name
    }

    /// The newlines in `bytes` (see ``newlines(in:from:to:)``).
    static func newlines(_ bytes: ArraySlice<UInt8>) -> Int {
        bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return 0 }
            return newlines(in: base, from: 0, to: buffer.count)
        }
    }

    /// The newlines in `base[start..<end]`: sixteen bytes a step (SSE2: each newline lane
    /// counts one, up to 255 steps a sum), then eight (SWAR), not a `memchr` call per line (a
    /// line is ~30 bytes in the bench). The fast tokenizer counts its lines with it too.
    @inline(__always)
    static func newlines(in base: UnsafePointer<UInt8>, from start: Int, to end: Int) -> Int {
        var count = 0
        var j = start
        #if arch(x86_64)
        let newline = _mm_set1_epi8(0x0A), zero = _mm_setzero_si128()
        while j &+ 16 <= end {
            var lanes = zero
            let stop = Swift.min(end, j &+ 16 &* 255)
            while j &+ 16 <= stop {
                let v = _mm_loadu_si128(UnsafeRawPointer(base + j).assumingMemoryBound(to: __m128i.self))
                lanes = _mm_sub_epi8(lanes, _mm_cmpeq_epi8(v, newline))
                j &+= 16
            }
            // Two 64-bit sums of the eight byte counts in each half.
            let sums = unsafeBitCast(_mm_sad_epu8(lanes, zero), to: SIMD2<UInt64>.self)
            count &+= Int(sums[0] &+ sums[1])
        }
        #else
        let newline = SIMD16<UInt8>(repeating: 0x0A)
        while j + 16 <= end {
            var lanes = SIMD16<Int8>(repeating: 0)
            var rounds = 0
            while j + 16 <= end && rounds < 127 {
                let v = UnsafeRawPointer(base + j).loadUnaligned(as: SIMD16<UInt8>.self)
                lanes &+= unsafeBitCast(v .== newline, to: SIMD16<Int8>.self)
                j += 16
                rounds += 1
            }
            count -= Int(SIMD16<Int16>(truncatingIfNeeded: lanes).wrappedSum())
        }
        #endif
        let ones: UInt64 = 0x0101_0101_0101_0101
        let high: UInt64 = 0x8080_8080_8080_8080
        let low7: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
        while j + 8 <= end {
            let t = UInt64(littleEndian: UnsafeRawPointer(base + j).loadUnaligned(as: UInt64.self)) ^ (ones &* 0x0A)
            // Exactly the zero bytes of t (no borrow between bytes).
            let zero = ~(((t & low7) &+ low7) | t) & high
            count += zero.nonzeroBitCount
            j += 8
        }
        while j < end {
            if base[j] == 0x0A { count += 1 }
            j += 1
        }
        return count
    }

    // MARK: Parsing one segment

    /// Parses one segment with its own parser; runs on a pool thread (or the reader's).
    static func parse(_ job: consuming SegmentJob, options: XMLOptions, maxRecordBytes: Int, file: String, fileIndex: Int) -> SegmentResult {
        var result: SegmentResult
        let output = job.output
        job.output = []
        if !job.cutShort,
           let fast = parse(job, options: options, maxRecordBytes: maxRecordBytes, file: file, fileIndex: fileIndex, fast: true,
                            output: output) {
            result = fast
        } else if let violation = guardVerdict(job, options: options) {
            // The cut scan gives no verdicts past the root's start tag: the guard keeps
            // hostile markup from libxml2 here. The file is read again by one parser,
            // whose guard gives the verdict (at the unsplit chunk boundary).
            result = SegmentResult(index: job.index, batch: Batch(file: fileIndex, index: 0), rejects: [],
                                   fault: .parse(message: "xml: " + violation, offset: 0, line: 0), isWholeDocument: false)
            result.hasGuardVerdict = true
        } else {
            result = parse(job, options: options, maxRecordBytes: maxRecordBytes, file: file, fileIndex: fileIndex, fast: false)!
        }
        result.newlines = newlines(job.bytes[...])
        result.spare = job.bytes
        return result
    }

    /// The markup guard's verdict on a segment as its parser would see it, or nil.
    static func guardVerdict(_ job: SegmentJob, options: XMLOptions) -> String? {
        var markupGuard = XMLMarkupGuard(maxAttributes: options.maxAttributes, maxTokenBytes: options.maxTokenBytes)
        for part in [job.prologue ?? [], job.bytes, job.epilogue ?? []] {
            if let violation = part.withUnsafeBufferPointer({ markupGuard.scan($0) }) { return violation }
        }
        return nil
    }

    /// One parse of a segment, by ``XMLFastTokenizer`` (`fast`; nil when it fell back) or by
    /// libxml2.
    static func parse(_ job: SegmentJob, options: XMLOptions, maxRecordBytes: Int, file: String, fileIndex: Int, fast: Bool,
                      output: consuming [UInt8] = []) -> SegmentResult? {
        var collecting = ReadOptions()
        collecting.batchSize = Int.max
        collecting.maxBatchBytes = Int.max
        var assembler = BatchAssembler(fileIndex: fileIndex, file: file, options: collecting)
        assembler.batch.bytes = output
        // Segments make no tape (the first stage indexes their records): measured, the
        // tapes of the segments in flight took peak RSS from 101 to 153 MB on a 400 MB file
        // (carried into the file's batches, to spare the first stage parsing the JSON
        // again: from 99 to 181 MB with twice the page faults, for 3.5 % fewer instructions).
        var untaped = options
        untaped.jsonMaxDepth = nil
        let framer = XMLFramer(assembler: assembler, options: untaped, maxRecordBytes: maxRecordBytes, guardsMarkup: false, fast: fast)
        framer.shiftPositions(line: job.lineShift, offset: job.offsetShift)
        framer.collectRejects()
        let ignore: (Batch) throws -> Void = { _ in }
        var fault: InputFault?
        do throws(InputFault) {
            if let prologue = job.prologue { try feed(prologue[...], to: framer, emit: ignore) }
            try feed(job.bytes[...], to: framer, emit: ignore)
            if let epilogue = job.epilogue { try feed(epilogue[...], to: framer, emit: ignore) }
            if !job.cutShort { try framer.endDocument(emit: ignore) }
        } catch {
            fault = error
        }
        if fast && (framer.fellBack || fault != nil) { return nil }
        return SegmentResult(index: job.index, batch: framer.takeBatch(), rejects: framer.takeRejects(), fault: fault,
                             isWholeDocument: job.index == 0 && job.epilogue == nil && !job.cutShort)
    }

    /// Feeds `bytes` in read-chunk-sized pieces (libxml2 copies what it is given into its
    /// own buffer; small pieces stay in cache).
    private static func feed(_ bytes: ArraySlice<UInt8>, to framer: XMLFramer, emit: (Batch) throws -> Void) throws(InputFault) {
        try bytes.withUnsafeBufferPointer { (buffer) throws(InputFault) in
            var at = 0
            while at < buffer.count {
                let n = min(256 << 10, buffer.count - at)
                try framer.consume(UnsafeBufferPointer(rebasing: buffer[at..<(at + n)]), emit: emit)
                at += n
            }
        }
    }
}

/// One segment to parse.
struct SegmentJob: Sendable {
    var index: Int
    var prologue: [UInt8]?
    var bytes: [UInt8]
    var epilogue: [UInt8]?
    var lineShift: Int
    var offsetShift: Int
    /// True for bytes cut short by a read error: parse them without the end-of-document checks.
    var cutShort = false
    /// An empty buffer, with the capacity a parsed segment left, for the records' bytes.
    var output: [UInt8] = []
}

/// A parsed segment: its records (in one batch), its `limit` errors, and its fault.
struct SegmentResult: Sendable {
    var index: Int
    var batch: Batch
    var rejects: [XMLParseState.Reject]
    var fault: InputFault?
    /// True when the segment was the whole document, parsed to its end.
    var isWholeDocument: Bool
    /// Newlines in the segment's own bytes (not the prologue or epilogue).
    var newlines = 0
    /// True when the markup guard stopped the segment (before libxml2 saw it).
    var hasGuardVerdict = false
    /// The segment's byte buffer, for the reader to fill again.
    var spare: [UInt8]?
}


/// The markup guard with cut-finding, on whichever thread scans (the reader's, or the
/// inflating thread of ``DecodedInput``): the cuts found go to the reader through a lock.
private final class CutScanner: @unchecked Sendable {
    // `markupGuard` is touched only by the scanning thread (one at a time: the reader's
    // until `scanAhead`, then the inflating thread's); `found` only under its lock.
    private var markupGuard: XMLMarkupGuard
    private let found = LockedBox(Found())

    private struct Found {
        var cuts: [Int] = []
        var rootTagEnd: Int?
        var stopped = false
    }

    /// Scans no more chunks: the fast tokenizer checks every byte of the rest itself.
    func stop() { found.withLock { $0.stopped = true } }

    init(_ markupGuard: XMLMarkupGuard) { self.markupGuard = markupGuard }

    func scan(_ chunk: UnsafeBufferPointer<UInt8>) -> String? {
        if found.withLock({ $0.stopped }) { return nil }
        let verdict = markupGuard.scan(chunk)
        if !markupGuard.cuts.isEmpty || (markupGuard.rootTagEnd != nil && found.withLock({ $0.rootTagEnd == nil })) {
            let cuts = markupGuard.cuts
            let root = markupGuard.rootTagEnd
            markupGuard.cuts.removeAll(keepingCapacity: true)
            found.withLock {
                $0.cuts.append(contentsOf: cuts)
                $0.rootTagEnd = root
            }
        }
        return verdict
    }

    /// The cuts found before decoded offset `limit`, in order, removed from the list.
    func takeCuts(below limit: Int) -> [Int] {
        found.withLock { found in
            guard let first = found.cuts.first, first < limit else { return [] }
            let n = found.cuts.firstIndex(where: { $0 >= limit }) ?? found.cuts.count
            let taken = Array(found.cuts[..<n])
            found.cuts.removeFirst(n)
            return taken
        }
    }

    var rootTagEnd: Int? { found.withLock { $0.rootTagEnd } }
}

/// The threads that parse one file's segments.
private final class SegmentPool: @unchecked Sendable {
    // `threads` is written in `init` and read by `stop()` on the reader's thread only;
    // everything shared lives in `state`.
    private struct State: Sendable {
        var jobs: [SegmentJob] = []
        var results: [Int: SegmentResult] = [:]
        var stopping = false
    }
    private let state = LockedBox(State())
    private var workers: [WorkerThread] = []

    init(threads: Int, options: XMLOptions, maxRecordBytes: Int, file: String, fileIndex: Int) {
        let state = self.state
        for t in 0..<threads {
            workers.append(WorkerThread(name: "sluice-xml-\(t)") {
                while true {
                    let job = state.withLock(when: { $0.stopping || !$0.jobs.isEmpty }) { s -> SegmentJob? in
                        s.stopping ? nil : s.jobs.removeFirst()
                    }
                    guard let job else { return }
                    let result = XMLSegmentedFramer.parse(job, options: options, maxRecordBytes: maxRecordBytes, file: file, fileIndex: fileIndex)
                    state.withLockNotifying { $0.results[job.index] = result }
                }
            })
        }
    }

    func submit(_ job: SegmentJob) {
        state.withLockNotifying { $0.jobs.append(job) }
    }

    func isFinished(_ index: Int) -> Bool { state.withLock { $0.results[index] != nil } }

    /// Takes the oldest segment no thread has started, for the caller to parse.
    func takeWaitingJob() -> SegmentJob? {
        state.withLock { $0.jobs.isEmpty ? nil : $0.jobs.removeFirst() }
    }

    func store(_ result: SegmentResult) {
        state.withLockNotifying { $0.results[result.index] = result }
    }

    /// Waits until segment `index` is parsed.
    func wait(_ index: Int) {
        state.withLock(when: { $0.results[index] != nil }) { _ in }
    }

    /// True when segment `index`, parsed, was stopped by the markup guard.
    func hasGuardVerdict(_ index: Int) -> Bool { state.withLock { $0.results[index]?.hasGuardVerdict == true } }

    /// Waits for segment `index` and takes its result.
    func take(_ index: Int) -> SegmentResult {
        state.withLock(when: { $0.results[index] != nil }) { $0.results.removeValue(forKey: index)! }
    }

    /// Drops the waiting segments and joins the threads (a running parse finishes first).
    func stop() {
        state.withLockNotifying {
            $0.stopping = true
            $0.jobs.removeAll()
        }
        for worker in workers { worker.join() }
        workers.removeAll()
    }
}
