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
/// Not thread-safe: one reader owns one instance.
final class DecodedInput {
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
        close(fd)
        input.deallocate()
        output?.deallocate()
    }

    /// The next decoded chunk, valid until the next call, or nil at the end of the file.
    ///
    /// - Throws: ``InputFault/io(message:offset:)`` for a read error or bad gzip data, with
    ///   the byte offset in the file where it was found.
    func next() throws(InputFault) -> UnsafeBufferPointer<UInt8>? {
        guard let inflater, let output else { return try nextPlain() }
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
                return UnsafeBufferPointer(start: output, count: produced)
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
