import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A file written under a temporary name and renamed into place only when complete,
/// so that no reader ever sees a partial file.
///
/// The sink appends to it, remembers offsets, and can roll back to an offset (to drop
/// the records of an input file that failed midway). `commit()` flushes to disk
/// (fsync) and renames; `discard()` removes the temporary file.
///
/// Appends are gathered in memory up to ``bufferLimit`` bytes and written with one
/// `write(2)`: a run over 20,000 small files wrote each file's few hundred bytes with a
/// system call of its own. Nothing reads the temporary file before ``seal()``, which
/// writes what is gathered first; a rollback inside the gathered bytes costs no call.
///
/// Early writeback: every ``writebackStep`` bytes written, the file asks the kernel to
/// start writing them to disk (`sync_file_range(SYNC_FILE_RANGE_WRITE)`, which only
/// queues the pages and does not wait), so that the disk works while the run goes on
/// and ``seal()``'s `fsync` has only the last few megabytes left. The `fsync` before
/// the ledger names the file is unchanged: it alone makes the file durable.
final class OutputFile {
    /// The final path.
    let path: String
    /// The temporary path it is written under.
    let temporaryPath: String
    private var descriptor: Int32
    /// Bytes appended (written or gathered), as the file will hold them.
    private(set) var size: Int = 0
    /// Appended bytes not written yet: the file's bytes from ``written`` to ``size``.
    private var gathered: [UInt8] = []
    /// Bytes in the file on disk.
    private var written = 0
    /// Appends are written once this many bytes are gathered: small, because every open
    /// output (one per partition, up to `max_open_partitions`) holds its own.
    static let bufferLimit = 16 << 10
    /// Written bytes from here on have not been handed to early writeback yet.
    private var writebackStart = 0
    /// Early writebacks the kernel accepted (for tests).
    private(set) var writebacksStarted = 0
    /// Early writeback starts once this many written bytes wait (see the type's discussion).
    static let writebackStep = 8 << 20

    /// Creates the temporary file (`.NAME.tmp-RUNID` beside `path`).
    init(path: String, runID: String) throws(SinkError) {
        self.path = path
        let url = URL(fileURLWithPath: path)
        self.temporaryPath = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(runID)").path
        descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if descriptor < 0 {
            throw SinkError.io(path: temporaryPath, operation: "create", errno: errno)
        }
    }

    deinit {
        discard()
    }

    /// Appends `bytes` (gathered, or written when large; see the type's discussion).
    package func write(_ bytes: [UInt8]) throws(SinkError) {
        guard !bytes.isEmpty else { return }
        if gathered.count + bytes.count > Self.bufferLimit { try flush() }
        if bytes.count >= Self.bufferLimit {
            try writeOut(bytes)
        } else {
            if gathered.capacity == 0 { gathered.reserveCapacity(min(Self.bufferLimit, max(4096, 2 * bytes.count))) }
            gathered.append(contentsOf: bytes)
        }
        size += bytes.count
    }

    /// Writes the gathered bytes to the file.
    func flush() throws(SinkError) {
        guard !gathered.isEmpty else { return }
        try writeOut(gathered)
        gathered.removeAll(keepingCapacity: true)
    }

    /// Writes `bytes` at the end of the file, retrying short writes.
    private func writeOut(_ bytes: [UInt8]) throws(SinkError) {
        var failure: Int32 = 0
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(descriptor, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                offset += n
            }
        }
        if failure != 0 { throw SinkError.io(path: temporaryPath, operation: "write", errno: failure) }
        written += bytes.count
        if written - writebackStart >= Self.writebackStep {
            if EarlyWriteback.start(descriptor, from: writebackStart, count: written - writebackStart) { writebacksStarted += 1 }
            writebackStart = written
        }
    }

    /// Cuts the file back to `offset` bytes (dropping what was written after it).
    func truncate(to offset: Int) throws(SinkError) {
        guard offset < size else { return }
        try cut(to: offset)
    }

    /// Drops every byte past `offset`: from the gathered bytes alone when it is past what
    /// is on disk, else from the file too.
    private func cut(to offset: Int) throws(SinkError) {
        if offset >= written {
            gathered.removeLast(size - offset)
        } else {
            gathered.removeAll(keepingCapacity: true)
            if ftruncate(descriptor, off_t(offset)) != 0 || lseek(descriptor, off_t(offset), SEEK_SET) < 0 {
                throw SinkError.io(path: temporaryPath, operation: "truncate", errno: errno)
            }
            written = offset
            writebackStart = min(writebackStart, offset)
        }
        size = offset
    }

    /// Whether ``seal()`` closed the file (it can still be reopened, renamed or removed).
    var isSealed: Bool { descriptor < 0 && !isDiscarded }
    private var isDiscarded = false

    /// Flushes to disk and closes the descriptor, keeping the temporary file: a finished
    /// part of a rotated output, or a mirror output, holds no descriptor until commit.
    package func seal() throws(SinkError) {
        guard descriptor >= 0 else { return }
        try flush()
        gathered = []   // a sealed part (mirror, rotation) keeps no buffer
        if fsync(descriptor) != 0 { throw SinkError.io(path: temporaryPath, operation: "fsync", errno: errno) }
        close(descriptor)
        descriptor = -1
    }

    /// Reopens a sealed file for appending after cutting it back to `offset` bytes (a
    /// rollback that crosses a rotation).
    func reopen(truncatingTo offset: Int) throws(SinkError) {
        if descriptor < 0 {
            descriptor = open(temporaryPath, O_WRONLY | O_CLOEXEC)
            if descriptor < 0 { throw SinkError.io(path: temporaryPath, operation: "reopen", errno: errno) }
            if lseek(descriptor, off_t(written), SEEK_SET) < 0 {
                throw SinkError.io(path: temporaryPath, operation: "reopen", errno: errno)
            }
        }
        if offset < size { try cut(to: offset) }
    }

    /// Flushes to disk and renames into place: to `path`, or to `target` (the error report
    /// of a run that failed its threshold keeps a name no committed run uses).
    package func commit(to target: String? = nil) throws(SinkError) {
        let path = target ?? self.path
        try seal()
        if rename(temporaryPath, path) != 0 { throw SinkError.io(path: path, operation: "rename", errno: errno) }
        isDiscarded = true
        let directory = open(URL(fileURLWithPath: path).deletingLastPathComponent().path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directory >= 0 {
            _ = fsync(directory)
            close(directory)
        }
    }

    /// Closes and removes the temporary file.
    package func discard() {
        gathered = []
        if descriptor >= 0 {
            close(descriptor)
            descriptor = -1
        }
        if !isDiscarded {
            isDiscarded = true
            unlink(temporaryPath)
        }
    }
}

/// `sync_file_range(fd, offset, count, SYNC_FILE_RANGE_WRITE)`: starts writing a range
/// of a file's dirty pages to disk without waiting for it. Swift's Glibc module does not
/// declare it (it is a GNU call), so it is looked up in the C library once; where it is
/// missing, or the file system refuses it, nothing happens and `fsync` does all the work.
enum EarlyWriteback {
    private typealias SyncFileRange = @convention(c) (Int32, Int64, Int64, UInt32) -> Int32
    private static let syncFileRange: SyncFileRange? = {
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "sync_file_range") else { return nil }
        return unsafeBitCast(symbol, to: SyncFileRange.self)
    }()
    /// `SYNC_FILE_RANGE_WRITE` in `<fcntl.h>`.
    private static let write: UInt32 = 2

    /// Whether the call exists here.
    static var isAvailable: Bool { syncFileRange != nil }

    /// Queues bytes `from..<from+count` of `descriptor` for writeback; advisory only.
    /// - Returns: whether the kernel accepted the request.
    @discardableResult
    static func start(_ descriptor: Int32, from offset: Int, count: Int) -> Bool {
        syncFileRange?(descriptor, Int64(offset), Int64(count), write) == 0
    }
}

/// Failures of the output side: fatal for the run (exit 1).
public enum SinkError: Error, Sendable, CustomStringConvertible {
    /// A system call on an output file failed.
    case io(path: String, operation: String, errno: Int32)
    /// A limit of the output config was reached (too many partitions, clashing names).
    case limit(String)
    /// A stage asked to stop the run (`on_error: fail`, `dedupe` past `max_keys`); the
    /// sink stops at the first such batch in input order, so the reason does not
    /// depend on worker timing.
    case stopped(String)

    public var description: String {
        switch self {
        case .io(let path, let operation, let code):
            return "cannot \(operation) \(path): \(String(cString: strerror(code)))"
        case .limit(let message), .stopped(let message):
            return message
        }
    }
}
