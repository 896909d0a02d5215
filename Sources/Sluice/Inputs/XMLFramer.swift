import CLibXML2
import SluiceCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Frames an XML file into records with libxml2's push parser and SAX2 callbacks, or,
/// for a file read from a path (`fast`), with ``XMLFastTokenizer`` while the document
/// stays in its subset (UTF-8, no DOCTYPE, predefined entities and character references
/// only, well-formed): it drives the same callbacks (``XMLParseState``) with the same
/// names, text, lines and offsets, so records, tapes and `limit` errors are the same.
/// Batches it fills are held until the chunk is done; where it stops (outside the subset,
/// or not well-formed) libxml2 reads the file again from its start, leaving out the
/// records handed over before that chunk, and its verdict is the file's.
///
/// Decoded chunks (Sluice gunzips; libxml2 never sees a file name) go first through
/// ``XMLMarkupGuard`` and then to `xmlParseChunk`; for a gzip file of more than one read
/// chunk, inflating and the guard run on the reader's helper thread, one chunk ahead
/// (``scanAhead(on:)``), with the same verdicts in the same order. The callbacks follow the element
/// path; inside an element that `input.xml.record` selects they fill an
/// ``XMLRecordTree``, and at its end tag the record's JSON text goes straight into the
/// batch buffer.
///
/// Security: no entity other than the five predefined ones and character references is
/// ever expanded, and nothing is ever loaded (the fast tokenizer knows no other entity
/// and hands any DOCTYPE to libxml2). libxml2 runs without `XML_PARSE_NOENT`,
/// `XML_PARSE_DTDLOAD` and `XML_PARSE_HUGE`, with `XML_PARSE_NONET`; the external
/// subset, entity resolution and the global entity loader are stubbed out; a reference
/// to an entity that the document declares (which is how entity bombs and XXE work)
/// fails the file, naming the entity; a reference to an entity that could only come from
/// the external DTD is kept as written (`&uuml;`).
///
/// Errors: a malformed document fails the file with a `parse` error carrying libxml2's
/// message, line and column; a record over `max_record_bytes` is a `limit` error and the
/// file goes on. Records framed before a file-level error are handed over and withheld
/// by the sink.
///
/// The callbacks reach the parse state through a raw pointer in the parser context's
/// `_private`: no reference counting and no exclusivity checks per callback.
final class XMLFramer: RecordFramer {
    private let state: UnsafeMutablePointer<XMLParseState>
    private var markupGuard: XMLMarkupGuard
    /// Set when the guard runs on `input`'s inflating thread (see ``scanAhead(on:)``).
    private var scannedAhead: DecodedInput?
    /// The document's first bytes while fewer than 4 have come (a decoder may hand over
    /// 1–3 bytes first): libxml2 detects the encoding from them when the parser is made.
    private var head: [UInt8] = []

    var assembler: BatchAssembler { delegate?.assembler ?? state.pointee.assembler }

    /// True unless the bytes were pre-scanned already (a segment of ``XMLSegmentedFramer``).
    private let guardsMarkup: Bool

    // The fast path (``XMLFastTokenizer``).
    private let options: XMLOptions
    private let maxRecordBytes: Int
    private let tokenizer: UnsafeMutablePointer<XMLFastTokenizer>?
    /// True while the fast tokenizer parses; false for libxml2 from the start, or after a fallback.
    private var isFast: Bool
    /// Where to read the file again when the fast tokenizer hands it to libxml2.
    private let source: XMLSegmentedFramer.Source?
    /// Records and `limit` errors of the file handed over before this framer began.
    private let alreadyHandedOver: Int
    /// The libxml2 framer that read the file again after a fallback; it has the batch.
    private var delegate: XMLFramer?
    /// True when the fast tokenizer gave up and there was no source to read again: the
    /// caller (a segment parse) parses the bytes with libxml2 instead.
    private(set) var fellBack = false

    /// True once the file was read again by libxml2 (its verdict is the unsplit one).
    var didReread: Bool { delegate != nil }

    /// Records and `limit` errors of the file handed over so far, by this framer and before it.
    var handedOverInFile: Int { delegate?.handedOverInFile ?? (alreadyHandedOver + initialSkip + state.pointee.handedOver) }
    private let initialSkip: Int

    /// - Parameters:
    ///   - guardsMarkup: false when the caller has run the markup guard over the bytes.
    ///   - skipping: records (and `limit` errors) at the start of the document to leave out,
    ///     because they were handed over already (a re-read after a split parse failed).
    ///   - fast: parse with ``XMLFastTokenizer`` while the document stays in its subset;
    ///     outside it, the file is read again from `source` by libxml2 (leaving out the
    ///     records handed over), or, with no source, ``fellBack`` says so and nothing more
    ///     is parsed.
    ///   - alreadyHandedOver: records and `limit` errors of the file before this framer's
    ///     first byte (the fast path's re-read leaves them out too).
    init(assembler: BatchAssembler, options: XMLOptions, maxRecordBytes: Int, guardsMarkup: Bool = true, skipping: Int = 0,
         fast: Bool = false, source: XMLSegmentedFramer.Source? = nil, alreadyHandedOver: Int = 0) {
        XMLFramer.setUpLibXML
        state = .allocate(capacity: 1)
        state.initialize(to: XMLParseState(assembler: assembler, options: options, maxRecordBytes: maxRecordBytes))
        state.pointee.skipItems = skipping
        markupGuard = XMLMarkupGuard(maxAttributes: options.maxAttributes, maxTokenBytes: options.maxTokenBytes)
        self.guardsMarkup = guardsMarkup
        self.options = options
        self.maxRecordBytes = maxRecordBytes
        self.source = source
        self.alreadyHandedOver = alreadyHandedOver
        initialSkip = skipping
        isFast = fast && skipping == 0
        if isFast {
            let tokenizer = UnsafeMutablePointer<XMLFastTokenizer>.allocate(capacity: 1)
            tokenizer.initialize(to: XMLFastTokenizer(options: options))
            self.tokenizer = tokenizer
            state.pointee.isFast = true
            state.pointee.fastLines = tokenizer.pointee.lineCounter
        } else {
            tokenizer = nil
        }
    }

    /// Shifts applied to each record's line and offset (a segment parsed after a prologue).
    func shiftPositions(line: Int, offset: Int) {
        state.pointee.lineShift = line
        state.pointee.offsetShift = offset
    }

    /// Keeps `limit` errors aside (with the number of records before each) instead of
    /// adding them to the batch: see ``takeRejects()``.
    func collectRejects() { state.pointee.collectsRejects = true }

    func takeRejects() -> [XMLParseState.Reject] {
        defer { state.pointee.rejects = [] }
        return state.pointee.rejects
    }

    /// Takes the batch being filled (a segment's records), leaving an empty one.
    func takeBatch() -> Batch {
        let batch = state.pointee.assembler.batch
        state.pointee.assembler.batch = Batch(file: batch.file, index: batch.index)
        return batch
    }


    deinit {
        if let tokenizer {
            tokenizer.pointee.deallocate()
            tokenizer.deinitialize(count: 1)
            tokenizer.deallocate()
        }
        if let parser = state.pointee.parser {
            if let doc = parser.pointee.myDoc { xmlFreeDoc(doc) }
            parser.pointee.myDoc = nil
            xmlFreeParserCtxt(parser)
        }
        state.pointee.deallocate()
        state.deinitialize(count: 1)
        state.deallocate()
    }

    /// Once per process: no entity loader at all, whatever a document asks for.
    private static let setUpLibXML: Void = {
        xmlInitParser()
        xmlSetExternalEntityLoader { _, _, _ in nil }
    }()

    /// Parser options: never NOENT, DTDLOAD, DTDATTR, DTDVALID, XINCLUDE or HUGE.
    private static let parseOptions = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOXINCNODE.rawValue)

    // MARK: RecordFramer

    /// Moves the markup guard, in its state after the bytes consumed so far, to `input`'s
    /// helper thread, which then inflates and pre-scans each chunk while libxml2 parses the
    /// one before. Every later chunk must come from `input.next()`, in order. Nothing
    /// changes when `input` does not inflate ahead (a plain or small file).
    func scanAhead(on input: DecodedInput) {
        if isFast {
            // The tokenizer checks every byte itself: only inflate ahead.
            _ = input.startInflatingAhead(inspecting: { _ in nil })
            return
        }
        let box = MarkupGuardBox(markupGuard)
        if input.startInflatingAhead(inspecting: { box.scan($0) }) { scannedAhead = input }
    }

    func consume(_ chunk: UnsafeBufferPointer<UInt8>, emit: (Batch) throws -> Void) throws(InputFault) {
        guard chunk.count > 0, delegate == nil, !fellBack else { return }
        if isFast { return try feedFast(chunk, isLast: false, emit: emit) }
        let violation: String?
        if !guardsMarkup {
            violation = nil
        } else if let scannedAhead {
            violation = scannedAhead.chunkVerdict
        } else {
            violation = markupGuard.scan(chunk)
        }
        if let violation {
            throw .parse(message: "xml: " + violation, offset: state.pointee.fedBytes, line: state.pointee.currentLine)
        }
        try feed(chunk, isLast: false, emit: emit)
    }

    func finish(emit: (Batch) throws -> Void) throws(InputFault) {
        try endDocument(emit: emit)
        if let delegate { return try delegate.flushFramed(emit: emit) }
        if fellBack { return }
        try state.pointee.assembler.flush(emit: emit)
    }

    func flushFramed(emit: (Batch) throws -> Void) throws(InputFault) {
        if let delegate { return try delegate.flushFramed(emit: emit) }
        try state.pointee.assembler.flush(emit: emit)
    }

    /// As ``finish(emit:)`` without emitting the batch being filled (see ``takeBatch()``).
    func endDocument(emit: (Batch) throws -> Void) throws(InputFault) {
        guard delegate == nil, !fellBack else { return }
        if isFast { return try feedFast(UnsafeBufferPointer(start: nil, count: 0), isLast: true, emit: emit) }
        try feed(UnsafeBufferPointer(start: nil, count: 0), isLast: true, emit: emit)
    }

    /// Batches filled while the fast tokenizer parses one chunk, handed over when the
    /// chunk is done (see ``feedFast``).
    private var held: [Batch] = []

    /// Tokenizes one chunk. Batches filled meanwhile are held until the chunk is done:
    /// libxml2's path checks each chunk with the markup guard before parsing it, so when
    /// the fast path gives up within a chunk, libxml2 re-reads from that chunk's start
    /// (same chunks: the same read size) and decides for its records itself.
    private func feedFast(_ chunk: UnsafeBufferPointer<UInt8>, isLast: Bool, emit: (Batch) throws -> Void) throws(InputFault) {
        guard let tokenizer else { return }
        let state = self.state
        var before = state.pointee.assembler
        let start = before.batch
        let counts = (bytes: start.bytes.count, records: start.records.count, tape: start.tape.count, errors: start.errors.count)
        before.batch = Batch(file: start.file, index: start.index)
        let handedBefore = state.pointee.handedOver
        state.pointee.emit = { [unowned self] batch in self.held.append(batch) }
        let step = tokenizer.pointee.feed(chunk, isLast: isLast, state: state)
        state.pointee.emit = nil
        switch step {
        case .ok:
            guard !held.isEmpty else { return }
            let batches = held
            held.removeAll(keepingCapacity: true)
            for batch in batches {
                do { try emit(batch) } catch { throw .cancelled }
            }
        case .fault, .fallback:
            // The file as it stood before this chunk.
            var restored = held.first ?? state.pointee.assembler.batch
            held = []
            restored.bytes.removeSubrange(counts.bytes...)
            restored.records.removeSubrange(counts.records...)
            restored.tape.removeSubrange(counts.tape...)
            restored.errors.removeSubrange(counts.errors...)
            before.batch = restored
            try fallBack(from: before, skipping: alreadyHandedOver + handedBefore, emit: emit)
        }
    }

    /// The document left the fast tokenizer's subset (or is not well-formed): libxml2
    /// reads the whole file again, leaving out the records handed over already, so its
    /// verdict, message, line and column are exactly the libxml2 path's.
    private func fallBack(from assembler: BatchAssembler, skipping: Int, emit: (Batch) throws -> Void) throws(InputFault) {
        isFast = false
        state.pointee.isFast = false
        guard let source else {
            fellBack = true
            return
        }
        let framer = XMLFramer(assembler: assembler, options: options, maxRecordBytes: maxRecordBytes, skipping: skipping)
        delegate = framer
        try framer.readWhole(source, emit: emit)
    }

    /// Reads the whole file at `source` through this framer, from its first byte (a re-read
    /// by libxml2 after a fallback, or after a wrong cut of a split file).
    func readWhole(_ source: XMLSegmentedFramer.Source, emit: (Batch) throws -> Void) throws(InputFault) {
        let input = try DecodedInput(path: source.path, chunkSize: source.chunkSize, codecs: source.codecs, isXML: true)
        defer { input.stopInflatingAhead() }
        var first = true
        while let chunk = try input.next() {
            try consume(chunk, emit: emit)
            if first {
                scanAhead(on: input)
                first = false
            }
        }
        try finish(emit: emit)
    }

    private func feed(_ chunk: UnsafeBufferPointer<UInt8>, isLast: Bool, emit: (Batch) throws -> Void) throws(InputFault) {
        if state.pointee.parser == nil && (!head.isEmpty || (!isLast && chunk.count < 4)) {
            head.append(contentsOf: chunk)
            if head.count < 4 && !isLast { return }
            let first = head
            head = []
            try first.withUnsafeBufferPointer { (bytes) throws(InputFault) in try feedParser(bytes, isLast: isLast, emit: emit) }
            return
        }
        try feedParser(chunk, isLast: isLast, emit: emit)
    }

    private func feedParser(_ chunk: UnsafeBufferPointer<UInt8>, isLast: Bool, emit: (Batch) throws -> Void) throws(InputFault) {
        let state = self.state
        withoutActuallyEscaping(emit) { emit in
            state.pointee.emit = emit
            defer { state.pointee.emit = nil }
            var bytes = chunk
            if state.pointee.parser == nil {
                // The first bytes let libxml2 detect the encoding (BOM, or `<?xml` in UTF-16/EBCDIC).
                let head = min(4, bytes.count)
                state.pointee.parser = makeParser(UnsafeBufferPointer(rebasing: bytes[0..<head]))
                bytes = UnsafeBufferPointer(rebasing: bytes[head...])
                guard state.pointee.parser != nil else {
                    state.pointee.fault = .io(message: "xml: cannot create a parser", offset: nil)
                    return
                }
            }
            guard let parser = state.pointee.parser, state.pointee.fault == nil else { return }
            state.pointee.fedBytes += chunk.count
            let base = bytes.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) }
            // xmlParseChunk takes an Int32 size; chunks are far smaller.
            let code = xmlParseChunk(parser, base, Int32(bytes.count), isLast ? 1 : 0)
            // Non-fatal errors fail the file only when libxml2 says the document is not
            // well-formed (or not namespace-well-formed): DTD messages such as a duplicate
            // enumeration token or a redeclared element do not.
            if state.pointee.fault == nil, parser.pointee.wellFormed == 0 || parser.pointee.nsWellFormed == 0 {
                state.pointee.fail(state.pointee.pendingError
                    ?? .parse(message: "xml: the document is not well-formed", offset: state.pointee.byteOffset, line: state.pointee.currentLine))
            }
            if state.pointee.fault == nil && code != 0 {
                state.pointee.fault = .parse(message: "xml: malformed document (libxml2 error \(code))",
                                             offset: state.pointee.byteOffset, line: state.pointee.currentLine)
            }
        }
        if let fault = state.pointee.fault { throw fault }
        if isLast && state.pointee.recordDepth != 0 {
            throw .parse(message: "xml: the document ends inside a record", offset: state.pointee.fedBytes, line: state.pointee.currentLine)
        }
    }

    private func makeParser(_ head: UnsafeBufferPointer<UInt8>) -> xmlParserCtxtPtr? {
        var sax = xmlSAXHandler()
        xmlSAXVersion(&sax, 2)
        sax.startElementNs = { ctx, local, prefix, _, _, _, attributeCount, _, attributes in
            guard let local, let state = XMLFramer.state(ctx) else { return }
            state.pointee.startElement(prefix: prefix, local: local, attributeCount: Int(attributeCount), attributes: attributes)
        }
        sax.endElementNs = { ctx, _, _, _ in
            XMLFramer.state(ctx)?.pointee.endElement()
        }
        sax.characters = { ctx, bytes, count in
            guard let bytes, count > 0, let state = XMLFramer.state(ctx) else { return }
            state.pointee.characters(bytes, count: Int(count))
        }
        sax.ignorableWhitespace = sax.characters
        sax.cdataBlock = sax.characters
        sax.reference = { ctx, name in
            // An entity only the (never loaded) external DTD could define: keep it as written.
            guard let name, let state = XMLFramer.state(ctx) else { return }
            var written: [UInt8] = [UInt8(ascii: "&")]
            XMLRecordTree.appendName(prefix: nil, local: name, to: &written)
            written.append(UInt8(ascii: ";"))
            written.withUnsafeBufferPointer { state.pointee.characters($0.baseAddress!, count: $0.count) }
        }
        sax.getEntity = { ctx, name in
            guard let name else { return nil }
            if let predefined = xmlGetPredefinedEntity(name) { return predefined }
            XMLFramer.state(ctx)?.pointee.refuseDeclaredEntity(name: name, isParameter: false)
            return nil
        }
        sax.getParameterEntity = { ctx, name in
            guard let name else { return nil }
            XMLFramer.state(ctx)?.pointee.refuseDeclaredEntity(name: name, isParameter: true)
            return nil
        }
        sax.resolveEntity = { _, _, _ in nil }
        sax.externalSubset = { _, _, _, _ in }
        sax.internalSubset = { ctx, name, externalID, systemID in
            xmlSAX2InternalSubset(ctx, name, externalID, systemID)
            // With an external DTD (never loaded), an undeclared entity may be defined
            // there: libxml2 then only warns, and the reference is kept as written. With
            // an internal subset alone it is a well-formedness error, as everywhere else
            // (libxml2 itself sets hasPErefs when the subset refers to parameter entities).
            if externalID != nil || systemID != nil {
                ctx?.assumingMemoryBound(to: xmlParserCtxt.self).pointee.hasPErefs = 1
            }
        }
        sax.serror = { _, error in
            guard let error, let ctx = error.pointee.ctxt, let state = XMLFramer.state(ctx) else { return }
            state.pointee.parserError(error.pointee)
        }
        let base = head.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) }
        guard let parser = xmlCreatePushParserCtxt(&sax, nil, base, Int32(head.count), nil) else { return nil }
        xmlCtxtUseOptions(parser, XMLFramer.parseOptions)
        parser.pointee._private = UnsafeMutableRawPointer(state)
        return parser
    }

    private static func state(_ ctx: UnsafeMutableRawPointer?) -> UnsafeMutablePointer<XMLParseState>? {
        ctx?.assumingMemoryBound(to: xmlParserCtxt.self).pointee._private?.assumingMemoryBound(to: XMLParseState.self)
    }
}

/// The markup guard on the inflating thread: only that thread touches it.
private final class MarkupGuardBox: @unchecked Sendable {
    private var markupGuard: XMLMarkupGuard
    init(_ markupGuard: XMLMarkupGuard) { self.markupGuard = markupGuard }
    func scan(_ chunk: UnsafeBufferPointer<UInt8>) -> String? { markupGuard.scan(chunk) }
}

/// Everything the SAX callbacks of one file change: the element path, the record being
/// built, the batch being filled, and the first fault.
struct XMLParseState {
    var assembler: BatchAssembler
    var parser: xmlParserCtxtPtr?
    /// The batch consumer during one `consume`/`finish` call.
    var emit: ((Batch) throws -> Void)?
    /// The first fault; once set, the parser is stopped.
    var fault: InputFault?
    /// The first non-fatal error, which fails the file if libxml2 then finds the document
    /// not well-formed.
    var pendingError: InputFault?
    /// Decoded bytes handed to the parser so far.
    var fedBytes = 0
    /// Depth of the record element while inside a record, else 0.
    private(set) var recordDepth = 0
    /// Records and `limit` errors still to leave out (see ``XMLFramer/init``).
    var skipItems = 0
    /// Added to each record's line and (non-zero) offset.
    var lineShift = 0
    var offsetShift = 0
    /// A record over `max_record_bytes`, kept aside when ``collectsRejects``.
    struct Reject {
        /// Records of the batch before it.
        var position: Int
        var shown: [UInt8]
        var line: Int
        var offset: Int
    }
    var collectsRejects = false
    var rejects: [Reject] = []
    /// Records and `limit` errors handed over (after any skipped): what a re-read skips.
    private(set) var handedOver = 0
    /// Set while ``XMLFastTokenizer`` drives the callbacks: the position it reports for
    /// the start tag being handed over (libxml2's line and offset there).
    var isFast = false
    /// The tokenizer's buffer and the index in it of the current start tag's end.
    var fastBase: UnsafePointer<UInt8>?
    var fastIndex = 0
    var fastOffset = 0
    var fastLines: UnsafeMutablePointer<XMLLineCounter>?

    private let options: XMLOptions
    private let maxRecordBytes: Int
    private var tree: XMLRecordTree
    /// Element depth in the document.
    private var depth = 0
    /// Names of the open elements while outside a record (for matching record paths).
    private var path: [(prefix: XMLRecordTree.Name?, local: XMLRecordTree.Name)] = []
    private var isSkippingRecord = false
    private var recordLine = 0
    private var recordOffset = 0

    init(assembler: BatchAssembler, options: XMLOptions, maxRecordBytes: Int) {
        self.assembler = assembler
        self.options = options
        self.maxRecordBytes = maxRecordBytes
        tree = XMLRecordTree(options: options)
    }

    /// Frees the record tree's storage; called once, when the framer goes away.
    func deallocate() { tree.deallocate() }

    // Inlined: called with `self` as a large struct, an outlined getter costs a copy of it.
    @inline(__always)
    var currentLine: Int {
        if isFast, let fastLines, let fastBase {
            return fastLines.pointee.line(at: fastIndex, in: fastBase, bufferStart: fastOffset - fastIndex)
        }
        return parser.map { Int($0.pointee.input?.pointee.line ?? 0) } ?? 0
    }

    /// True inside a record that is being built: character data matters only there.
    var wantsCharacters: Bool { recordDepth > 0 && !isSkippingRecord }

    // Inlined: called with `self` as a large struct, an outlined getter costs a copy of it.
    /// Decoded offset just past the current start tag (UTF-8 input), else 0: for other
    /// encodings libxml2 would have to re-encode to tell.
    @inline(__always)
    var byteOffset: Int {
        if isFast { return fastLines?.pointee.rawOffset(fastOffset) ?? fastOffset }
        guard let parser, let input = parser.pointee.input, input.pointee.buf?.pointee.encoder == nil else { return 0 }
        return max(0, Int(xmlByteConsumed(parser)))
    }

    mutating func fail(_ error: InputFault) {
        guard fault == nil else { return }
        fault = error
        if let parser { xmlStopParser(parser) }
    }

    mutating func parserError(_ error: xmlError) {
        // A fatal error fails the file at once; a non-fatal one (a namespace error, a DTD
        // message, an undeclared entity the external DTD may define) is kept, and fails
        // the file only if libxml2 finds the document not well-formed (see `feed`).
        guard fault == nil, error.level.rawValue >= XML_ERR_ERROR.rawValue else { return }
        var message = error.message.map { String(cString: $0) } ?? "malformed document"
        while message.last?.isWhitespace == true { message.removeLast() }
        // libxml2 quotes names and bytes of the input; a hostile one may be 50,000 long.
        if message.utf8.count > 300 { message = String(decoding: message.utf8.prefix(300), as: UTF8.self) + "…" }
        if fedBytes == 0 { message = "the document is empty" }
        let problem = InputFault.parse(message: "xml: line \(error.line), column \(error.int2): \(message)", offset: byteOffset, line: Int(error.line))
        if error.level == XML_ERR_FATAL {
            fail(problem)
        } else if pendingError == nil {
            pendingError = problem
        }
    }

    /// A reference to an entity the document declares fails the file: expanding it is how
    /// entity bombs and external-entity reads work.
    mutating func refuseDeclaredEntity(name: UnsafePointer<xmlChar>, isParameter: Bool) {
        guard let parser, let doc = parser.pointee.myDoc else { return }
        let declared = isParameter ? xmlGetParameterEntity(doc, name) : xmlGetDocEntity(doc, name)
        guard declared != nil else { return }
        var bytes: [UInt8] = []
        XMLRecordTree.appendName(prefix: nil, local: name, to: &bytes)
        let shown = String(decoding: bytes.prefix(200), as: UTF8.self)
        let sigil = isParameter ? "%" : "&"
        let line = Int(parser.pointee.input?.pointee.line ?? 0)
        let column = Int(parser.pointee.input?.pointee.col ?? 0)
        fail(.parse(message: "xml: line \(line), column \(column): entity '\(sigil)\(shown);' is declared in the document; "
                    + "Sluice expands only the predefined entities and character references",
                    offset: byteOffset, line: line))
    }

    // MARK: Callbacks

    mutating func startElement(prefix: XMLRecordTree.Name?, local: XMLRecordTree.Name, attributeCount: Int,
                               attributes: UnsafeMutablePointer<UnsafePointer<xmlChar>?>?) {
        guard fault == nil else { return }
        depth += 1
        if depth > options.maxDepth {
            fail(.parse(message: "xml: line \(currentLine): elements nest deeper than input.xml.max_depth (\(options.maxDepth))",
                        offset: byteOffset, line: currentLine))
            return
        }
        if recordDepth > 0 {
            if !isSkippingRecord {
                tree.startElement(prefix: prefix, local: local, attributeCount: attributeCount, attributes: attributes)
                checkRecordSize()
            }
            return
        }
        path.append((prefix, local))
        guard isRecordElement() else { return }
        recordDepth = depth
        isSkippingRecord = false
        tree.reset()
        recordLine = currentLine + lineShift
        let offset = byteOffset
        recordOffset = offset == 0 ? 0 : offset + offsetShift
        tree.startElement(prefix: prefix, local: local, attributeCount: attributeCount, attributes: attributes)
        checkRecordSize()
    }

    mutating func characters(_ bytes: UnsafePointer<UInt8>, count: Int) {
        guard recordDepth > 0, !isSkippingRecord else { return }
        tree.characters(bytes, count: count)
        checkRecordSize()
    }

    /// As ``characters(_:count:)`` for whitespace-only text that a start or end tag follows.
    mutating func blankBeforeTag(_ bytes: UnsafePointer<UInt8>, count: Int) {
        guard recordDepth > 0, !isSkippingRecord else { return }
        tree.blankBeforeTag(bytes, count: count)
        checkRecordSize()
    }

    mutating func endElement() {
        guard fault == nil else { return }
        defer { depth -= 1 }
        if recordDepth == 0 {
            path.removeLast()
            return
        }
        if depth > recordDepth {
            if !isSkippingRecord { tree.endElement() }
            return
        }
        recordDepth = 0
        if isSkippingRecord {
            // The name only for the rejected record's report: a String per record otherwise.
            let name = lastPathName
            path.removeLast()
            reject(shown: Array("<\(name)…".utf8))
            return
        }
        path.removeLast()
        tree.endElement()
        let start = assembler.batch.bytes.count
        let tapeStart = assembler.batch.tape.count
        let json = tree.write(tagged: options.tagsRecords, byteBase: start, tapeBase: tapeStart)
        if json.count > maxRecordBytes {
            reject(shown: Array(json.prefix(BatchAssembler.shownPrefix)))
            return
        }
        if skipItems > 0 {
            skipItems -= 1
            return
        }
        handedOver += 1
        assembler.batch.bytes.append(contentsOf: json)
        var indexed = false
        if let nodes = tree.tapeNodes {
            if tapeStart == 0 && assembler.batch.tape.capacity < nodes.count {
                assembler.batch.tape.reserveCapacity(max(nodes.count, tapeReserve))
            }
            assembler.batch.tape.append(contentsOf: nodes)
            indexed = true
        }
        guard let emit else { return }
        do {
            if indexed {
                var reserve = tapeReserve
                try assembler.commit(start: start, tapeStart: tapeStart, line: recordLine, offset: recordOffset) { batch in
                    reserve = batch.tape.count + batch.tape.count / 4
                    try emit(batch)
                }
                tapeReserve = reserve
            } else {
                try assembler.commit(start: start, line: recordLine, offset: recordOffset, emit: emit)
            }
        } catch {
            fail(error)
        }
    }

    /// Tape nodes to reserve for a new batch: a quarter more than the last one held.
    private var tapeReserve = 0

    private var lastPathName: String {
        guard let last = path.last else { return "" }
        var bytes: [UInt8] = []
        XMLRecordTree.appendName(prefix: options.stripsNamespaces ? nil : last.prefix, local: last.local, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    private mutating func checkRecordSize() {
        if tree.size > maxRecordBytes && !isSkippingRecord {
            isSkippingRecord = true
            tree.reset()
        }
    }

    private mutating func reject(shown: [UInt8]) {
        if skipItems > 0 {
            skipItems -= 1
            return
        }
        handedOver += 1
        if collectsRejects {
            rejects.append(Reject(position: assembler.batch.records.count, shown: shown, line: recordLine, offset: recordOffset))
            return
        }
        guard let emit else { return }
        do {
            try assembler.recordTooLong(shown: shown, limit: maxRecordBytes, line: recordLine, offset: recordOffset, emit: emit)
        } catch {
            fail(error)
        }
    }

    // Inlined: called with `self` as a large struct, an outlined getter costs a copy of it.
    @inline(__always)
    private func isRecordElement() -> Bool {
        for spec in options.records {
            if spec.isAbsolute {
                guard spec.steps.count == path.count else { continue }
                var matches = true
                for (step, element) in zip(spec.steps, path) where !nameMatches(step, element.prefix, element.local) {
                    matches = false
                    break
                }
                if matches { return true }
            } else if let last = path.last, nameMatches(spec.steps[0], last.prefix, last.local) {
                return true
            }
        }
        return false
    }

    private func nameMatches(_ step: [UInt8]?, _ prefix: XMLRecordTree.Name?, _ local: XMLRecordTree.Name) -> Bool {
        guard let step else { return true }
        let localLength = XMLRecordTree.length(local)
        if let prefix, !options.stripsNamespaces {
            let prefixLength = XMLRecordTree.length(prefix)
            guard step.count == prefixLength + 1 + localLength, step[prefixLength] == UInt8(ascii: ":") else { return false }
            return step.withUnsafeBufferPointer {
                memcmp($0.baseAddress!, prefix, prefixLength) == 0 && memcmp($0.baseAddress! + prefixLength + 1, local, localLength) == 0
            }
        }
        guard step.count == localLength else { return false }
        return step.withUnsafeBufferPointer { memcmp($0.baseAddress!, local, localLength) == 0 }
    }
}

extension BatchAssembler {
    /// As ``commit(start:line:offset:emit:)`` for a record whose tape nodes the caller put
    /// on the batch's tape from `tapeStart` to its end: the record's slot says so, and the
    /// first stage does not index it again.
    mutating func commit(start: Int, tapeStart: Int, line: Int, offset: Int, emit: (Batch) throws -> Void) throws(InputFault) {
        let first = Int32(tapeStart)
        let end = Int32(batch.tape.count)
        var handedOver = false
        try commit(start: start, line: line, offset: offset) { full in
            // The batch filled up with this record: mark its slot in the batch handed over.
            handedOver = true
            var full = full
            full.records[full.records.count - 1].tapeStart = first
            full.records[full.records.count - 1].tapeEnd = end
            try emit(full)
        }
        if !handedOver {
            let last = batch.records.count - 1
            batch.records[last].tapeStart = first
            batch.records[last].tapeEnd = end
        }
    }
}
