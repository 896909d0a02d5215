import Foundation
import SluiceCore
#if canImport(Glibc)
import Glibc
#endif

/// One run at a time per output directory: an advisory `flock(2)` on
/// `<output>/.sluice.lock`, which holds the pid of the run that has it.
///
/// The kernel drops the lock when the descriptor closes — on exit, crash or `kill -9` —
/// so a lock left behind by a dead run never blocks the next one: the file may remain,
/// but nobody holds it.
///
/// ```swift
/// let lock = try RunLock.acquire(directory: "out/orders", wait: 0)   // throws .held(pid:)
/// defer { lock.release() }
/// ```
public final class RunLock: @unchecked Sendable {
    /// The lock file's name inside the output directory.
    public static let fileName = ".sluice.lock"

    public let path: String
    private var descriptor: Int32

    private init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = descriptor
    }

    deinit { release() }

    /// Takes the lock, waiting up to `wait` seconds for a running holder to finish
    /// (0: fail at once).
    ///
    /// - Throws: ``RunLockError/held(path:pid:)`` when another process holds it past the
    ///   wait; ``RunLockError/io(path:message:)`` when the lock file cannot be opened.
    public static func acquire(directory: String, wait: Double = 0) throws(RunLockError) -> RunLock {
        let path = URL(fileURLWithPath: directory).appendingPathComponent(fileName).path
        // No O_TRUNC: the holder's pid must survive until we own the lock. Made 0666 less
        // the umask (not a fixed 0644), so that the users of a shared output directory can
        // take over once this run has gone; a lock file this user cannot write (another
        // user's, under umask 022) is still locked read-only — flock needs no write
        // access —, only its pid is not rewritten.
        var fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o666)
        if fd < 0 && (errno == EACCES || errno == EPERM) { fd = open(path, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else {
            throw .io(path: path, message: String(cString: strerror(errno)))
        }
        let deadline = monotonicSeconds() + max(0, wait)
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            if code == EINTR { continue }
            guard code == EWOULDBLOCK else {
                close(fd)
                throw .io(path: path, message: String(cString: strerror(code)))
            }
            if monotonicSeconds() >= deadline {
                let pid = readPID(fd)
                close(fd)
                throw .held(path: path, pid: pid, user: pid.flatMap(otherUser(of:)))
            }
            usleep(50_000)
        }
        let text = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        return RunLock(path: path, descriptor: fd)
    }

    /// Drops the lock (also done on deinit and, by the kernel, on exit).
    public func release() {
        if descriptor >= 0 {
            _ = flock(descriptor, LOCK_UN)
            close(descriptor)
            descriptor = -1
        }
    }

    /// The name of the user running `pid`, when it is not this process's user.
    static func otherUser(of pid: Int32) -> String? {
        var info = stat()
        guard stat("/proc/\(pid)", &info) == 0, info.st_uid != getuid() else { return nil }
        if let entry = getpwuid(info.st_uid), let name = entry.pointee.pw_name { return String(cString: name) }
        return "uid \(info.st_uid)"
    }

    private static func readPID(_ fd: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return nil }
        return Int32(String(decoding: buffer[..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}

/// Why a run could not take its lock.
public enum RunLockError: Error, Sendable, CustomStringConvertible {
    /// Another run holds the lock (exit code 4); `user` names its user when it is not ours.
    case held(path: String, pid: Int32?, user: String? = nil)
    /// The lock file could not be opened or locked.
    case io(path: String, message: String)

    public var description: String {
        switch self {
        case .held(let path, let pid, let user):
            var holder = pid.map { "process \($0)" } ?? "another process"
            if let user { holder += " of user \(user)" }
            return "another run holds the lock \(path) (\(holder)); exiting (use --wait-lock DURATION to wait)"
        case .io(let path, let message):
            return "cannot lock \(path): \(message)"
        }
    }
}
