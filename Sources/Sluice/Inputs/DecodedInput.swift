#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The decoded bytes of one input file, handed out chunk by chunk.
///
/// The file is read with `read(2)` in chunks of `chunkSize` bytes. When its first two
/// bytes are the gzip magic `1f 8b` the chunks are inflated (every member of a
/// multi-member file, see ``GzipInflater``); otherwise they pass through untouched. The
/// file name plays no part in this.
///
/// The path is checked with `stat` before it is opened, and the descriptor again with
/// `fstat` (it is opened with `O_NONBLOCK` as a belt), so a FIFO or a device that slipped
/// past the scanner, or replaced a file since, is refused instead of blocking.
///
/// Not thread-safe: one reader owns one instance. ``startInflatingAhead()`` moves the
/// inflating to a helper thread of the instance's own; the owner still calls every method
/// from one thread, and the helper touches only the decoding state, which the owner then
/// leaves alone until ``stopInflatingAhead()`` has joined it.
final class DecodedInput: @unchecked Sendable {
    /// Bytes read from the file so far.
    private(set) var fileBytes = 0
    /// Bytes handed out so far (after inflating).
    private(set) var decodedBytes = 0
    /// True when the file is gzip-compressed.
    var isGzip: Bool { inflater != nil }
    /// The fingerprint of the raw bytes read so far (the whole file once `next()` has
    /// returned nil): computed here, as the bytes come off the disk, so it costs no
    /// second read.
    var fingerprint: UInt64 { hasher.finish() }
    private var hasher = Fingerprint()

    private let fd: Int32
    private let chunkSize: Int
    private let input: UnsafeMutablePointer<UInt8>
    private let output: UnsafeMutablePointer<UInt8>?
    private let inflater: GzipInflater?
    private var pendingPlainBytes = 0
    private var reachedEnd = false
    /// Size of the file as opened.
    private let fileSize: Int
    /// Set while a helper thread inflates ahead of the reader.
    private var ahead: InflateAhead?
    /// What the inspector given to ``startInflatingAhead(inspecting:)`` said about the
    /// chunk last returned by ``next()`` (nil when it found nothing).
    var chunkVerdict: String? { ahead?.verdict }

    /// Opens `path` and reads its first chunk to detect gzip.
    ///
    /// - Throws: ``InputFault/io(message:offset:)`` when the file cannot be opened or read,
    ///   or is not a regular file.
    init(path: String, chunkSize: Int) throws(InputFault) {
        let chunkSize = max(2, chunkSize)
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
        input = .allocate(capacity: chunkSize)

        var count = 0
        var readError: InputFault?
        do {
            // A short read must not hide the magic bytes.
            while count < 2 {
                let n = try DecodedInput.readSome(fd, into: input + count, capacity: chunkSize - count, at: count)
                if n == 0 { break }
                count += n
            }
        } catch {
            readError = error
        }
        fileBytes = count
        hasher.update(UnsafeRawBufferPointer(start: input, count: count))
        if readError == nil, count >= 2, input[0] == 0x1F, input[1] == 0x8B {
            let inflater = GzipInflater()
            inflater.setInput(input, count: count)
            self.inflater = inflater
            output = .allocate(capacity: chunkSize)
        } else {
            inflater = nil
            output = nil
            pendingPlainBytes = count
            reachedEnd = count == 0
        }
        if let readError { throw readError }
    }

    deinit {
        stopInflatingAhead()
        close(fd)
        input.deallocate()
        output?.deallocate()
    }

    /// The next decoded chunk, valid until the next call, or nil at the end of the file.
    ///
    /// - Throws: ``InputFault/io(message:offset:)`` for a read error or bad gzip data, with
    ///   the byte offset in the file where it was found.
    func next() throws(InputFault) -> UnsafeBufferPointer<UInt8>? {
        if let ahead { return try ahead.take(into: self) }
        guard let output else { return try nextPlain() }
        return try nextInflated(into: output).map { UnsafeBufferPointer(start: output, count: $0) }
    }

    /// Inflates the next chunk into `output` (`chunkSize` bytes); returns its size, or nil
    /// at the end of the file.
    private func nextInflated(into output: UnsafeMutablePointer<UInt8>) throws(InputFault) -> Int? {
        guard let inflater else { return nil }
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
            let produced: Int
            do {
                produced = try inflater.inflate(into: output, capacity: chunkSize)
            } catch {
                let offset = fileBytes - inflater.pendingInput
                throw .io(message: DecodedInput.explain(error, at: offset), offset: offset)
            }
            if produced > 0 {
                decodedBytes += produced
                return produced
            }
            if inflater.pendingInput > 0 { continue }
            if reachedEnd {
                if inflater.isInMember {
                    throw .io(message: "gzip stream is truncated: the file ends at byte \(fileBytes) inside member \(inflater.finishedMembers + 1)", offset: fileBytes)
                }
                return nil
            }
        }
    }

    // MARK: Inflating ahead

    /// From now on, inflates on a helper thread, up to two chunks ahead of ``next()``, so
    /// that gunzip overlaps with the caller's parsing (XML parsing costs several times
    /// what inflating does; the reader is the pipeline's bottleneck). Chunks, errors and
    /// their offsets come out exactly as without it. Does nothing for a plain file or a
    /// gzip file of at most one read chunk, where a thread would cost more than it saves.
    /// Memory: two more decoded chunks.
    ///
    /// `inspect`, if given, runs on the helper thread over each chunk in order, and its
    /// answer comes with the chunk as ``chunkVerdict`` (the XML markup guard runs there).
    /// - Returns: whether it started.
    @discardableResult
    func startInflatingAhead(inspecting inspect: (@Sendable (UnsafeBufferPointer<UInt8>) -> String?)? = nil) -> Bool {
        guard ahead == nil, inflater != nil, fileSize > chunkSize else { return false }
        let ahead = InflateAhead(chunkSize: chunkSize, fileBytes: fileBytes, decodedBytes: decodedBytes)
        self.ahead = ahead
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
    func stopInflatingAhead() {
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

    private static func explain(_ error: GzipDataError, at offset: Int) -> String {
        var message = "gzip data error at byte \(offset) (member \(error.member)): \(error.message)"
        switch error.message {
        case "incorrect data check": message += " (CRC-32 mismatch: the data is corrupt)"
        case "incorrect length check": message += " (the trailer's length does not match the data)"
        case "incorrect header check" where error.member > 1: message += " (garbage after the end of member \(error.member - 1))"
        default: break
        }
        return message
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
