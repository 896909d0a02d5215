#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `--input -` (or `input.path: -`): the run's one input is standard input.
///
/// Standard input is first copied to a private temporary file (`$TMPDIR`, else `/tmp`;
/// created with `mkstemp`, mode 0600, removed when the run ends), which is then read like
/// any input file: gzip or plain is told by the first bytes, the records' format by
/// `input.format` (or `--format`; with `auto`, by the first byte, as a file without an
/// extension is). Copying first keeps the readers' guarantees (a regular file, read in
/// chunks, fingerprinted) and lets the run start only once the producer has finished, so a
/// producer that fails half way (`zcat broken.gz | sluice run ...`) still yields a
/// complete error report for what arrived.
///
/// The error report names the file `-`. The ledger never decides whether standard input
/// is read: it is always processed, whatever earlier runs did, and `input.min_age`,
/// `input.max_retries` and `include`/`exclude` do not apply to it.
public struct StandardInput: Sendable {
    /// The input path that means standard input.
    public static let path = "-"

    /// The copy of standard input, as the run's single file.
    public let file: InputFile

    /// Copies file descriptor `descriptor` (standard input by default) to a new temporary
    /// file until end of file.
    ///
    /// - Throws: ``StandardInputError`` when the temporary file cannot be
    ///   created or written, or standard input cannot be read (a closed descriptor, a
    ///   terminal is refused: nothing would arrive until Ctrl-D).
    public static func spool(descriptor: Int32 = STDIN_FILENO, temporaryDirectory: String? = nil) throws(StandardInputError) -> StandardInput {
        if isatty(descriptor) == 1 {
            throw StandardInputError(message: "standard input is a terminal: pipe records in (`zcat day.ndjson.gz | sluice run CONFIG --input -`) or name a file with --input")
        }
        let directory = temporaryDirectory ?? getenv("TMPDIR").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array((directory + "/sluice-stdin-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw StandardInputError(message: "cannot create a temporary file in \(directory) to hold standard input: " + DirectoryScanner.describe(errno) + " (set TMPDIR)")
        }
        let tempPath = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        defer { close(fd) }
        let capacity = 1 << 20
        let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        defer { buffer.deallocate() }
        var total = 0
        func fail(_ message: String) -> StandardInputError {
            unlink(tempPath)
            return StandardInputError(message: message)
        }
        while true {
            let n = read(descriptor, buffer, capacity)
            if n < 0 {
                if errno == EINTR { continue }
                throw fail("cannot read standard input at byte \(total): " + DirectoryScanner.describe(errno))
            }
            if n == 0 { break }
            var written = 0
            while written < n {
                let w = write(fd, buffer + written, n - written)
                if w < 0 {
                    if errno == EINTR { continue }
                    throw fail("cannot copy standard input to \(tempPath) at byte \(total + written): " + DirectoryScanner.describe(errno) + " (set TMPDIR to a roomier directory)")
                }
                written += w
            }
            total += n
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw fail("cannot stat \(tempPath): " + DirectoryScanner.describe(errno)) }
        let mtime = Int(info.st_mtim.tv_sec) * 1_000_000_000 + Int(info.st_mtim.tv_nsec)
        var file = InputFile(relativePath: path, path: tempPath, size: Int(info.st_size), mtime: mtime)
        file.isStandardInput = true
        return StandardInput(file: file)
    }

    /// Removes the temporary copy.
    public func remove() {
        unlink(file.path)
    }
}

/// Why standard input could not be taken as the run's input (a fatal error of the run).
public struct StandardInputError: Error, CustomStringConvertible, Equatable {
    public var message: String
    public var description: String { message }
}
