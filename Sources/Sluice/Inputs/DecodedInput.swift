#if canImport(Glibc)
import Glibc
import SluiceCore
#elseif canImport(Darwin)
import Darwin
#endif

/// The decoded bytes of one input file, handed out chunk by chunk.
///
/// The file is read with `read(2)` in chunks of `chunkSize` bytes. When its first bytes
/// are the magic number of a codec in ``Codecs`` (gzip, zstd, bzip2, xz, zlib) the chunks
/// are decoded — every frame of a concatenated file, see ``CodecStream``; otherwise they
/// pass through untouched. The file name plays no part in this. A container Sluice does
/// not read (zip, 7z, lz4, ...) fails the file at once, naming it; so does a first chunk
/// that is not UTF-8 text (UTF-16/32, binary data, see ``FormatSniffer/textProblem``).
/// Decoding stops with an `io` error when the output passes ``CodecOptions/maxExpansion``
/// times the bytes read (a decompression bomb), so a decoder cannot expand without end.
///
/// The path is checked with `stat` before it is opened, and the descriptor again with
/// `fstat` (it is opened with `O_NONBLOCK` as a belt), so a FIFO or a device that slipped
/// past the scanner, or replaced a file since, is refused instead of blocking.
///
/// Not thread-safe: one reader owns one instance. ``startInflatingAhead()`` moves the
/// inflating to a helper thread of the instance's own; the owner still calls every method
/// from one thread, and the helper touches only the decoding state, which the owner then
/// leaves alone until ``stopInflatingAhead()`` has joined it.
package final class DecodedInput: @unchecked Sendable {
    /// Bytes read from the file so far.
    package private(set) var fileBytes = 0
    /// Bytes handed out so far (after inflating).
    package private(set) var decodedBytes = 0
    /// The file's codec, nil for a plain file.
    var codec: (any Codec)? { inflater?.codec }
    /// What reading the file noticed but accepted (zero padding after the last member).
    private(set) var warnings: [String] = []
    /// The fingerprint of the raw bytes read so far (the whole file once `next()` has
    /// returned nil): computed here, as the bytes come off the disk, so it costs no
    /// second read.
    package var fingerprint: UInt64 { hasher.finish() }
    private var hasher = Fingerprint()

    private let fd: Int32
    private let chunkSize: Int
    private let input: UnsafeMutablePointer<UInt8>
    private let output: UnsafeMutablePointer<UInt8>?
    private let inflater: CodecStream?
    private let checksText: Bool
    private let codecOptions: CodecOptions
    private let maxExpansion: Int
    private let expansionFloor: Int
    private var checkedText = false
    private var pendingPlainBytes = 0
    private var reachedEnd = false
    /// Size of the file as opened.
    private let fileSize: Int
    /// Set while a helper thread inflates ahead of the reader.
    private var ahead: InflateAhead?
    /// A helper thread inflated ahead of the reader at some point (tests, the outcome).
    private(set) var inflatedAhead = false
    /// Set while a large bzip2 file is decoded on several threads.
    private var parallel: ParallelBzip2?
    /// What the inspector given to ``startInflatingAhead(inspecting:)`` said about the
    /// chunk last returned by ``next()`` (nil when it found nothing).
    var chunkVerdict: String? { sample != nil ? sampleVerdict : ahead?.verdict }
    /// The first chunk, gathered from several when they are small (see ``firstChunk()``).
    private var sample: UnsafeMutableBufferPointer<UInt8>?
    private var sampleVerdict: String?

    /// Opens `path` and reads its first chunk to detect its codec.
    ///
    /// - Parameters:
    ///   - codecs: decoder limits (`input.max_window`) and threads.
    ///   - isXML: the file is read as XML (by name or `format: xml`): libxml2 then judges
    ///     the text itself (it reads UTF-16 and XHTML), so the text check is skipped.
    ///   - start: read from this byte on, as if the file began there (a grown file's new
    ///     bytes, see ``ReadStart``): `fileBytes` and offsets still count from the file's
    ///     start, and the fingerprint goes on from `start.hash`, the hash of the bytes before.
    /// - Throws: ``InputFault/io(message:offset:)`` when the file cannot be opened or read,
    ///   is not a regular file, is a container Sluice does not read, or needs a codec
    ///   library the machine lacks.
    package init(path: String, chunkSize: Int, codecs: CodecOptions = CodecOptions(), isXML: Bool = true, start: ReadStart? = nil) throws(InputFault) {
        let chunkSize = max(2, chunkSize)
        checksText = !isXML
        checkedText = isXML // libxml2 judges XML's bytes; its chunks pass as they come
        codecOptions = codecs
        maxExpansion = codecs.maxExpansion
        expansionFloor = codecs.expansionFloor
        // stat before open: opening a FIFO, even non-blocking, would disturb its writer.
        var before = stat()
        if stat(path, &before) == 0, before.st_mode & mode_t(S_IFMT) != mode_t(S_IFREG) {
            throw .io(message: "not a regular file", offset: nil)
        }
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            throw .io(message: "cannot open: " + DirectoryScanner.describe(errno), offset: nil)
        }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & mode_t(S_IFMT) == mode_t(S_IFREG) else {
            close(fd)
            throw .io(message: "not a regular file", offset: nil)
        }
        self.fd = fd
        self.chunkSize = chunkSize
        fileSize = Int(info.st_size)
        input = .allocate(capacity: max(chunkSize, Codecs.magicLength))
        let startOffset = start?.offset ?? 0
        if let start, startOffset > 0 {
            hasher = start.hash
            if lseek(fd, off_t(startOffset), SEEK_SET) < 0 {
                close(fd)
                input.deallocate()
                throw .io(message: "cannot seek to byte \(startOffset): " + DirectoryScanner.describe(errno), offset: startOffset)
            }
        }

        var count = 0
        var readError: InputFault?
        do {
            // A short read must not hide the magic bytes.
            while count < Codecs.magicLength {
                let n = try DecodedInput.readSome(fd, into: input + count, capacity: max(chunkSize, Codecs.magicLength) - count, at: startOffset + count)
                if n == 0 { break }
                count += n
            }
        } catch {
            readError = error
        }
        fileBytes = startOffset + count
        hasher.update(UnsafeRawBufferPointer(start: input, count: count))
        let head = UnsafeRawBufferPointer(start: input, count: count)
        var fault = readError
        var stream: CodecStream?
        if fault == nil, let codec = Codecs.detect(head) {
            do {
                stream = try CodecStream(codec: codec, options: codecs)
            } catch {
                fault = .io(message: error.message, offset: 0)
            }
        } else if fault == nil, let foreign = Codecs.foreignContainer(head) {
            let readable = Codecs.all.map(\.name).joined(separator: ", ")
            fault = .io(message: "\(foreign), not JSON or XML text: Sluice reads plain files and \(readable) streams; unpack it first", offset: 0)
        }
        if let stream {
            stream.setInput(input, count: count)
            inflater = stream
            output = .allocate(capacity: chunkSize)
        } else {
            inflater = nil
            output = nil
            pendingPlainBytes = count
            reachedEnd = count == 0
        }
        if fault == nil, startOffset == 0, let stream, stream.codec is Bzip2Codec, codecs.decodeThreads > 1, fileSize >= 2 * codecs.bzip2Segment {
            let segment = max(1 << 10, codecs.bzip2Segment)
            parallel = ParallelBzip2(fd: fd, fileSize: fileSize, head: UnsafeBufferPointer(start: input, count: count), hasher: hasher,
                                     settings: ParallelBzip2.Settings(threads: codecs.decodeThreads, chunkSize: chunkSize,
                                                                      targetSegment: segment, maxSegment: 8 * segment))
        }
        // deinit closes the descriptor and frees the buffers.
        if let fault { throw fault }
    }

    deinit {
        stopInflatingAhead()
        sample?.deallocate()
        close(fd)
        input.deallocate()
        output?.deallocate()
    }

    /// The next decoded chunk, valid until the next call, or nil at the end of the file.
    ///
    /// - Throws: ``InputFault/io(message:offset:)`` for a read error or bad gzip data, with
    ///   the byte offset in the file where it was found.
    package func next() throws(InputFault) -> UnsafeBufferPointer<UInt8>? {
        sample?.deallocate()
        sample = nil
        sampleVerdict = nil
        if !checkedText { return try firstChunk() }
        return try nextChunk()
    }

    /// Whether ``next(into:)`` may be called: the first chunk has been handed out (the
    /// text check is done) and no helper thread decodes (inflating ahead, parallel bzip2).
    package var decodesInPlace: Bool { checkedText && pendingPlainBytes == 0 && ahead == nil && parallel == nil }

    /// Decodes (or reads, for a plain file) the next bytes straight into `target`, as
    /// many as fit, without the copy out of the input's own buffer that ``next()``'s
    /// caller makes; returns how many, or nil at the end of the file. The bytes, counts,
    /// checks and faults are those of ``next()``; only the chunks' sizes differ.
    /// Requires ``decodesInPlace``.
    ///
    /// - Throws: as ``next()``.
    package func next(into target: UnsafeMutableBufferPointer<UInt8>) throws(InputFault) -> Int? {
        precondition(decodesInPlace && target.count > 0, "next(into:) after the first chunk, without a helper thread")
        sample?.deallocate()
        sample = nil
        sampleVerdict = nil
        let base = target.baseAddress!
        if output != nil { return try nextInflated(into: base, capacity: target.count) }
        if reachedEnd { return nil }
        let n = try DecodedInput.readSome(fd, into: base, capacity: target.count, at: fileBytes)
        if n == 0 {
            reachedEnd = true
            return nil
        }
        fileBytes += n
        hasher.update(UnsafeRawBufferPointer(start: base, count: n))
        decodedBytes += n
        return n
    }

    private func nextChunk() throws(InputFault) -> UnsafeBufferPointer<UInt8>? {
        if let parallel {
            let next: UnsafeBufferPointer<UInt8>?
            do {
                next = try parallel.next()
            } catch {
                // Where one thread would have failed, with its words (frame numbers count
                // from the file's start, not the segment's): bad files are rare.
                if case .io = error, let codec, let fault = sequentialFault(codec, codecOptions) { throw fault }
                throw error
            }
            guard let chunk = next else { return nil }
            decodedBytes += chunk.count
            if decodedBytes > expansionFloor && decodedBytes / max(1, fileSize) > maxExpansion {
                throw .io(message: "bzip2 data expands more than \(maxExpansion) times (\(decodedBytes) bytes from \(fileSize)): a decompression bomb, not data; stopped", offset: 0)
            }
            return chunk
        }
        if let ahead { return try ahead.take(into: self) }
        if let output { return try nextInflated(into: output).map { UnsafeBufferPointer(start: output, count: $0) } }
        return try nextPlain()
    }

    /// The first chunk: at least ``FormatSniffer/textSample`` decoded bytes (fewer only
    /// at the end of the file), whatever the chunk size, so that the text check sees the
    /// same bytes every time. Fails the file once when they are not UTF-8 text of a kind
    /// Sluice reads, instead of one garbage error per "line".
    private func firstChunk() throws(InputFault) -> UnsafeBufferPointer<UInt8>? {
        checkedText = true
        var gathered: [UInt8] = []
        var verdict: String?
        while gathered.count < FormatSniffer.textSample, let chunk = try nextChunk() {
            gathered.append(contentsOf: chunk)
            verdict = verdict ?? ahead?.verdict
        }
        if checksText, let problem = gathered.withUnsafeBufferPointer({ FormatSniffer.textProblem($0) }) {
            let what = inflater.map { "the \($0.codec.name)-decoded data is " } ?? "the file is "
            throw .io(message: what + problem, offset: 0)
        }
        guard !gathered.isEmpty else { return nil }
        let copy = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: gathered.count)
        _ = copy.initialize(from: gathered)
        sample = copy
        sampleVerdict = verdict
        return UnsafeBufferPointer(copy)
    }

    /// Inflates the next chunk into `output` (`capacity` bytes, `chunkSize` unless told);
    /// returns its size, or nil at the end of the file.
    private func nextInflated(into output: UnsafeMutablePointer<UInt8>, capacity: Int? = nil) throws(InputFault) -> Int? {
        guard let inflater else { return nil }
        let capacity = capacity ?? chunkSize
        while true {
            if inflater.pendingInput == 0 && !reachedEnd {
                let n = try DecodedInput.readSome(fd, into: input, capacity: chunkSize, at: fileBytes)
                if n == 0 {
                    reachedEnd = true
                } else {
                    fileBytes += n
                    hasher.update(UnsafeRawBufferPointer(start: input, count: n))
                    inflater.setInput(input, count: n)
                }
            }
            var produced: Int
            do {
                produced = try inflater.decode(into: output, capacity: capacity, inputIsFinal: fileBytes >= fileSize)
                if produced == 0 && inflater.pendingInput == 0 && reachedEnd {
                    produced = try inflater.finish(into: output, capacity: capacity)
                }
            } catch {
                throw diagnose(error, in: inflater)
            }
            if produced > 0 {
                decodedBytes += produced
                if decodedBytes > expansionFloor && decodedBytes / max(1, fileBytes) > maxExpansion {
                    throw .io(message: "\(inflater.codec.name) data expands more than \(maxExpansion) times (\(decodedBytes) bytes from the first \(fileBytes)): a decompression bomb, not data; stopped", offset: fileBytes - inflater.pendingInput)
                }
                return produced
            }
            if inflater.pendingInput > 0 { continue }
            if reachedEnd {
                if inflater.trailingZeroBytes > 0 && warnings.isEmpty {
                    warnings.append("\(inflater.trailingZeroBytes) zero bytes of padding after the last \(inflater.codec.name) \(inflater.codec.frameNoun) ignored (as gzip does)")
                }
                return nil
            }
        }
    }

    /// The fault for bad data. Gzip read through ISA-L is read again through zlib up to
    /// the fault, so that the message and offset are zlib's whichever library decoded
    /// (ISA-L buffers input bits, and says less about what went wrong); bad files are
    /// rare, and their records are withheld anyway.
    private func diagnose(_ error: StreamError, in stream: CodecStream) -> InputFault {
        if stream.codec is GzipCodec && !(stream.decoderType == GzipZlibDecoder.self),
           let fault = sequentialFault(stream.codec, CodecOptions(maxWindow: codecOptions.maxWindow, usesFallback: true)) {
            return fault
        }
        return DecodedInput.fault(error, in: stream, fileBytes: fileBytes)
    }

    static func fault(_ error: StreamError, in stream: CodecStream, fileBytes: Int) -> InputFault {
        let name = stream.codec.name, noun = stream.codec.frameNoun
        if error.isTruncation {
            return .io(message: "\(name) stream is truncated: the file ends at byte \(fileBytes) inside \(noun) \(error.frame)", offset: fileBytes)
        }
        let offset = max(0, fileBytes - stream.pendingInput - error.rewind)
        return .io(message: "\(name) data error at byte \(offset) (\(noun) \(error.frame)): \(error.message)", offset: offset)
    }

    /// Decodes the file from its start on this thread (`pread`, leaving the reader's
    /// state alone); the fault that finds, or nil when it finds none.
    private func sequentialFault(_ codec: any Codec, _ options: CodecOptions) -> InputFault? {
        guard let stream = try? CodecStream(codec: codec, options: options) else { return nil }
        let size = 64 << 10
        let inBuffer = UnsafeMutablePointer<UInt8>.allocate(capacity: size)
        let outBuffer = UnsafeMutablePointer<UInt8>.allocate(capacity: size)
        defer {
            inBuffer.deallocate()
            outBuffer.deallocate()
        }
        var position = 0
        do throws(StreamError) {
            while true {
                let n = pread(fd, inBuffer, size, off_t(position))
                if n < 0 && errno == EINTR { continue }
                guard n >= 0 else { return nil }
                position += n
                if n == 0 {
                    while try stream.finish(into: outBuffer, capacity: size) > 0 {}
                    return nil
                }
                stream.setInput(inBuffer, count: n)
                while true {
                    let before = stream.pendingInput
                    let produced = try stream.decode(into: outBuffer, capacity: size, inputIsFinal: position >= fileSize)
                    if produced == 0 && (stream.pendingInput == 0 || stream.pendingInput == before) { break }
                }
            }
        } catch {
            return DecodedInput.fault(error, in: stream, fileBytes: position)
        }
    }

    // MARK: Inflating ahead

    /// From now on, inflates on a helper thread, up to two chunks ahead of ``next()``, so
    /// that decoding overlaps with the caller's parsing (XML parsing costs several times
    /// what inflating does; the reader is the pipeline's bottleneck). Chunks, errors and
    /// their offsets come out exactly as without it. Does nothing for a plain file or a
    /// compressed file of at most one read chunk, where a thread would cost more than it
    /// saves, nor for a bzip2 file already decoded on several threads.
    /// Memory: two more decoded chunks.
    ///
    /// `inspect`, if given, runs on the helper thread over each chunk in order, and its
    /// answer comes with the chunk as ``chunkVerdict`` (the XML markup guard runs there).
    /// - Returns: whether it started.
    @discardableResult
    func startInflatingAhead(inspecting inspect: (@Sendable (UnsafeBufferPointer<UInt8>) -> String?)? = nil) -> Bool {
        guard ahead == nil, parallel == nil, inflater != nil, fileSize > chunkSize else { return false }
        let ahead = InflateAhead(chunkSize: chunkSize, fileBytes: fileBytes, decodedBytes: decodedBytes)
        self.ahead = ahead
        inflatedAhead = true
        ahead.start { [unowned(unsafe) self] buffer throws(InputFault) in
            guard let count = try self.nextInflated(into: buffer) else { return nil }
            let verdict = inspect?(UnsafeBufferPointer(start: buffer, count: count))
            return (count: count, fileBytes: self.fileBytes, decodedBytes: self.decodedBytes, verdict: verdict)
        }
        return true
    }

    /// Stops and joins the helper thread, if any, and sets ``fileBytes`` and
    /// ``decodedBytes`` to what the caller has been handed (as if it had never inflated
    /// ahead). Called before reading the counters, and by `deinit`; after it, the input
    /// is finished with: chunks the helper inflated but did not hand out are dropped.
    package func stopInflatingAhead() {
        if let parallel {
            parallel.stop()
            fileBytes = parallel.bytesRead
            hasher = parallel.fingerprint
            warnings += parallel.warnings
            self.parallel = nil
        }
        guard let ahead else { return }
        let handed = ahead.stop()
        self.ahead = nil
        if !handed.isComplete {
            fileBytes = handed.fileBytes
            decodedBytes = handed.decodedBytes
        }
    }

    private func nextPlain() throws(InputFault) -> UnsafeBufferPointer<UInt8>? {
        if pendingPlainBytes > 0 {
            let count = pendingPlainBytes
            pendingPlainBytes = 0
            decodedBytes += count
            return UnsafeBufferPointer(start: input, count: count)
        }
        if reachedEnd { return nil }
        let n = try DecodedInput.readSome(fd, into: input, capacity: chunkSize, at: fileBytes)
        if n == 0 {
            reachedEnd = true
            return nil
        }
        fileBytes += n
        hasher.update(UnsafeRawBufferPointer(start: input, count: n))
        decodedBytes += n
        return UnsafeBufferPointer(start: input, count: n)
    }

    private static func readSome(_ fd: Int32, into buffer: UnsafeMutablePointer<UInt8>, capacity: Int, at offset: Int) throws(InputFault) -> Int {
        while true {
            let n = read(fd, buffer, capacity)
            if n >= 0 { return n }
            let code = errno
            if code == EINTR { continue }
            throw .io(message: "read failed at byte \(offset): " + DirectoryScanner.describe(code), offset: offset)
        }
    }
}

/// The hand-over between ``DecodedInput``'s helper thread, which inflates into two
/// buffers in turn, and the reader, which holds one buffer until its next call.
private final class InflateAhead: @unchecked Sendable {
    typealias Produced = (count: Int, fileBytes: Int, decodedBytes: Int, verdict: String?)

    private let lock = ConditionLock()
    private let buffers: [UnsafeMutablePointer<UInt8>]
    // Guarded by `lock`:
    private var free: [Int] = [0, 1]
    private var ready: [(buffer: Int, produced: Produced)] = []
    /// Set once the helper has finished: nil at the end of the file, else the fault.
    private var finished: InputFault??
    private var stopping = false
    // The reader's own:
    private var held: Int?
    /// The inspector's answer for the chunk handed out last.
    private(set) var verdict: String?
    private var handed: (fileBytes: Int, decodedBytes: Int, isComplete: Bool)
    private var thread: WorkerThread?

    init(chunkSize: Int, fileBytes: Int, decodedBytes: Int) {
        buffers = [.allocate(capacity: chunkSize), .allocate(capacity: chunkSize)]
        handed = (fileBytes, decodedBytes, false)
    }

    deinit {
        for buffer in buffers { buffer.deallocate() }
    }

    /// Runs `produce` on a new thread until it returns nil (the end), throws, or
    /// ``stop()`` is called.
    func start(_ produce: @escaping @Sendable (UnsafeMutablePointer<UInt8>) throws(InputFault) -> Produced?) {
        thread = WorkerThread(name: "sluice-inflate") { [self] in
            while true {
                let buffer: Int? = lock.withLock {
                    while free.isEmpty && !stopping { lock.wait() }
                    return stopping ? nil : free.removeFirst()
                }
                guard let buffer else { return }
                let outcome: Result<Produced?, InputFault>
                do throws(InputFault) {
                    outcome = .success(try produce(buffers[buffer]))
                } catch {
                    outcome = .failure(error)
                }
                let isDone: Bool = lock.withLock {
                    switch outcome {
                    case .success(let produced?): ready.append((buffer, produced))
                    case .success(nil): finished = .some(nil)
                    case .failure(let fault): finished = .some(fault)
                    }
                    lock.broadcast()
                    return finished != nil
                }
                if isDone { return }
            }
        }
    }

    /// The next chunk, in order, then nil or the fault that ended the file. The buffer
    /// handed out before goes back to the helper.
    func take(into input: DecodedInput) throws(InputFault) -> UnsafeBufferPointer<UInt8>? {
        let next: Result<(buffer: Int, produced: Produced)?, InputFault> = lock.withLock {
            if let held {
                free.append(held)
                self.held = nil
                lock.broadcast()
            }
            while ready.isEmpty && finished == nil { lock.wait() }
            if !ready.isEmpty { return .success(ready.removeFirst()) }
            if case .some(.some(let fault)) = finished { return .failure(fault) }
            return .success(nil)
        }
        switch next {
        case .success(let item?):
            held = item.buffer
            verdict = item.produced.verdict
            handed = (item.produced.fileBytes, item.produced.decodedBytes, false)
            return UnsafeBufferPointer(start: buffers[item.buffer], count: item.produced.count)
        case .success(nil):
            handed.isComplete = true
            return nil
        case .failure(let fault):
            handed.isComplete = true
            throw fault
        }
    }

    /// Stops the helper, waits for it, and returns what the reader was handed.
    func stop() -> (fileBytes: Int, decodedBytes: Int, isComplete: Bool) {
        lock.withLock {
            stopping = true
            lock.broadcast()
        }
        thread?.join()
        thread = nil
        return handed
    }
}
