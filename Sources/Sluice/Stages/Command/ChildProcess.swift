import CSystem
import Logging
import SluiceCore
#if canImport(Glibc)
import Glibc
#endif

/// A worker program could not be started (`posix_spawn` failed: no such file, no
/// permission, no such directory).
struct ChildSpawnError: Error, Sendable {
    var message: String
}

/// How one request/answer exchange with a worker ended.
enum ExchangeEnd: Equatable, Sendable {
    /// Every expected answer line arrived, and nothing after them.
    case complete
    /// Every expected line arrived, and more bytes after them: the stream is out of step.
    case extraOutput
    /// The deadline passed before every answer arrived.
    case timedOut
    /// The worker closed its output (it exited or crashed) before every answer arrived.
    case exited
    /// An answer line grew past ``ChildProcess/maxLineBytes``.
    case lineTooLong
    /// Before the request was sent, the idle worker had exited or written unasked-for
    /// output; nothing of this request was sent.
    case idleFault(String)
    /// The run is stopping.
    case cancelled
}

/// The answers read in one exchange: the bytes read and where each answer line is.
struct Exchange {
    var buffer: [UInt8] = []
    /// Answer lines in `buffer`, without their newline (and a trailing CR).
    var lines: [Range<Int>] = []
    var end: ExchangeEnd = .complete
}

/// One long-lived worker process: stdin and stdout as non-blocking pipes, stderr drained
/// into the log by a thread of its own, in a process group of its own so that signals
/// reach whatever it started too.
///
/// Not thread-safe: one stage worker thread uses a child at a time (the pool hands it
/// out). ``terminate(grace:)`` must be called exactly once; it reaps the child and joins
/// the stderr thread, so no zombie and no thread outlive it.
final class ChildProcess: @unchecked Sendable {
    /// The longest answer line accepted; a longer one is a protocol fault (a worker that
    /// writes without newlines must not make the stage buffer without bound).
    static let maxLineBytes = 64 << 20

    let pid: pid_t
    private var stdinFD: Int32
    private let stdoutFD: Int32
    private let stderr: StderrDrain
    private let stderrThread: WorkerThread
    /// The raw `waitpid` status once reaped.
    private var status: Int32?
    private var isReaped = false
    private var chunk = [UInt8](repeating: 0, count: 64 << 10)

    private init(pid: pid_t, stdin: Int32, stdout: Int32, stderr: StderrDrain, thread: WorkerThread) {
        self.pid = pid
        self.stdinFD = stdin
        self.stdoutFD = stdout
        self.stderr = stderr
        self.stderrThread = thread
    }

    /// Worker processes must not kill the run by closing a pipe we write to: a write to
    /// a dead worker is an EPIPE error (handled), not a SIGPIPE. Children get the default
    /// disposition back (`POSIX_SPAWN_SETSIGDEF`).
    private static let ignoreSIGPIPE: Void = {
        signal(SIGPIPE, SIG_IGN)
    }()

    /// Starts `argv` (looked up in `PATH` when it has no `/`) with `environment`
    /// (`KEY=value` strings) in `directory` (or the current one).
    ///
    /// - Throws: ``ChildSpawnError`` naming the program and the system's reason.
    static func spawn(argv: [String], environment: [String], directory: String?,
                      logger: Logger, stageName: String) throws(ChildSpawnError) -> ChildProcess {
        _ = ignoreSIGPIPE
        var fds: [Int32] = [-1, -1, -1, -1, -1, -1]
        func closeAll() { for fd in fds where fd >= 0 { close(fd) } }
        for k in 0..<3 {
            let made = fds.withUnsafeMutableBufferPointer { sluice_pipe_cloexec($0.baseAddress! + 2 * k) }
            if made != 0 {
                let reason = String(cString: strerror(errno))
                closeAll()
                throw ChildSpawnError(message: "cannot create a pipe: \(reason)")
            }
        }
        // fds: [stdin read, stdin write, stdout read, stdout write, stderr read, stderr write]
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, fds[0], 0)
        posix_spawn_file_actions_adddup2(&actions, fds[3], 1)
        posix_spawn_file_actions_adddup2(&actions, fds[5], 2)
        sluice_spawn_addclosefrom(&actions, 3)
        if let directory { sluice_spawn_addchdir(&actions, directory) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var all = sigset_t()
        sigfillset(&all)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let cArgv = argv.map { strdup($0) } + [nil]
        let cEnv = environment.map { strdup($0) } + [nil]
        defer {
            cArgv.forEach { free($0) }
            cEnv.forEach { free($0) }
        }
        var pid: pid_t = 0
        let result = posix_spawnp(&pid, argv[0], &actions, &attributes, cArgv, cEnv)
        close(fds[0])
        close(fds[3])
        close(fds[5])
        guard result == 0 else {
            close(fds[1])
            close(fds[2])
            close(fds[4])
            let place = directory.map { " in \($0)" } ?? ""
            throw ChildSpawnError(message: "cannot start \(argv[0])\(place): \(String(cString: strerror(result)))")
        }
        for fd in [fds[1], fds[2], fds[4]] {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        }
        let drain = StderrDrain(fd: fds[4], logger: logger, stageName: stageName, pid: pid)
        let thread = WorkerThread(name: "sluice-cmd-err") { drain.run() }
        return ChildProcess(pid: pid, stdin: fds[1], stdout: fds[2], stderr: drain, thread: thread)
    }

    /// Sends `input` (NDJSON lines) and reads `count` answer lines, until `deadline`
    /// (``monotonicSeconds()``), checking `control` at least every 100 ms.
    ///
    /// Reading and writing interleave through `poll(2)`, so a worker that answers before
    /// it has read everything cannot deadlock the exchange on full pipes.
    func exchange(input: [UInt8], expecting count: Int, deadline: Double, control: RunControl) -> Exchange {
        var exchange = Exchange()
        if let fault = idleFault() {
            exchange.end = .idleFault(fault)
            return exchange
        }
        var written = 0
        var lineStart = 0
        var scanned = 0
        while true {
            if exchange.lines.count == count {
                exchange.end = exchange.buffer.count > lineStart ? .extraOutput : .complete
                return exchange
            }
            if control.isCancelled {
                exchange.end = .cancelled
                return exchange
            }
            let now = monotonicSeconds()
            if now >= deadline {
                exchange.end = .timedOut
                return exchange
            }
            let writing = written < input.count && stdinFD >= 0
            var fds = [pollfd(fd: stdoutFD, events: Int16(POLLIN), revents: 0)]
            if writing { fds.append(pollfd(fd: stdinFD, events: Int16(POLLOUT), revents: 0)) }
            let wait = Int32(min(100, max(1, ((deadline - now) * 1000).rounded(.up))))
            let ready = poll(&fds, nfds_t(fds.count), wait)
            if ready < 0 {
                if errno == EINTR { continue }
                exchange.end = .exited
                return exchange
            }
            if writing && fds[1].revents != 0 {
                if fds[1].revents & Int16(POLLOUT) != 0 {
                    let n = input.withUnsafeBytes { raw in
                        write(stdinFD, raw.baseAddress! + written, min(input.count - written, 1 << 16))
                    }
                    if n > 0 {
                        written += n
                    } else if n < 0 && errno != EAGAIN && errno != EINTR {
                        written = input.count   // EPIPE: the worker is gone; read what it left
                    }
                } else {
                    written = input.count
                }
            }
            guard fds[0].revents != 0 else { continue }
            let n = chunk.withUnsafeMutableBytes { read(stdoutFD, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EAGAIN || errno == EINTR { continue }
                exchange.end = .exited
                return exchange
            }
            if n == 0 {
                exchange.end = .exited
                return exchange
            }
            exchange.buffer.append(contentsOf: chunk[0..<n])
            while scanned < exchange.buffer.count && exchange.lines.count < count {
                if exchange.buffer[scanned] == UInt8(ascii: "\n") {
                    var end = scanned
                    if end > lineStart && exchange.buffer[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                    exchange.lines.append(lineStart..<end)
                    lineStart = scanned + 1
                }
                scanned += 1
            }
            if exchange.lines.count < count && exchange.buffer.count - lineStart > ChildProcess.maxLineBytes {
                exchange.end = .lineTooLong
                return exchange
            }
        }
    }

    /// Whether the idle worker died or wrote something nobody asked for since the last
    /// exchange (either would pair answers with the wrong records).
    private func idleFault() -> String? {
        var fd = pollfd(fd: stdoutFD, events: Int16(POLLIN), revents: 0)
        guard poll(&fd, 1, 0) > 0 else { return nil }
        let n = chunk.withUnsafeMutableBytes { read(stdoutFD, $0.baseAddress!, $0.count) }
        if n > 0 { return "the worker wrote output between batches" }
        if n == 0 { return "the worker exited between batches" }
        return errno == EAGAIN || errno == EINTR ? nil : "the worker's output failed: \(String(cString: strerror(errno)))"
    }

    /// Closes the worker's stdin: a well-behaved worker reads EOF and exits.
    func closeInput() {
        if stdinFD >= 0 {
            close(stdinFD)
            stdinFD = -1
        }
    }

    /// Reaps the child if it has exited; true once it is reaped.
    @discardableResult
    func reapIfExited() -> Bool {
        guard !isReaped else { return true }
        var raw: Int32 = 0
        let r = waitpid(pid, &raw, WNOHANG)
        if r == pid {
            status = raw
            isReaped = true
        } else if r < 0 && errno != EINTR {
            isReaped = true   // ECHILD: nothing left to reap
        }
        return isReaped
    }

    /// Waits (polling every 5 ms) until the child has exited or `deadline` passes.
    @discardableResult
    func waitForExit(until deadline: Double) -> Bool {
        while !reapIfExited() {
            if monotonicSeconds() >= deadline { return false }
            usleep(5_000)
        }
        return true
    }

    /// Stops the worker for good: closes stdin, SIGTERM to its process group, SIGKILL
    /// after `grace` seconds, reaps it, kills what is left of its group, and drains
    /// stderr to the end.
    ///
    /// - Returns: How it ended, for error messages.
    @discardableResult
    func terminate(grace: Double) -> ChildExit {
        closeInput()
        if !reapIfExited() {
            kill(-pid, SIGTERM)
            if !waitForExit(until: monotonicSeconds() + grace) {
                kill(-pid, SIGKILL)
                while !reapIfExited() { usleep(1_000) }
            }
        }
        // The group id cannot be reused while any member lives, so this reaches only
        // what the worker left behind (a `sh -c` pipeline, a background helper).
        kill(-pid, SIGKILL)
        stderr.stop()
        stderrThread.join()
        close(stdoutFD)
        close(stderr.fd)
        return ChildExit(description: exitDescription, lastStderrLine: stderr.lastLine)
    }

    /// "exited with status 3", "was killed by signal 9 (SIGKILL)".
    var exitDescription: String {
        guard let raw = status else { return "exited" }
        let signal = raw & 0x7f
        if signal == 0 { return "exited with status \((raw >> 8) & 0xff)" }
        let name = ChildProcess.signalNames[signal].map { " (\($0))" } ?? ""
        return "was killed by signal \(signal)\(name)"
    }

    private static let signalNames: [Int32: String] = [
        SIGHUP: "SIGHUP", SIGINT: "SIGINT", SIGQUIT: "SIGQUIT", SIGILL: "SIGILL", SIGABRT: "SIGABRT",
        SIGFPE: "SIGFPE", SIGKILL: "SIGKILL", SIGSEGV: "SIGSEGV", SIGPIPE: "SIGPIPE", SIGTERM: "SIGTERM",
        SIGBUS: "SIGBUS",
    ]
}

/// How a worker ended: "exited with status 1", "was killed by signal 9 (SIGKILL)", and
/// the last line it wrote to stderr (often the reason: a Python exception).
struct ChildExit: Sendable {
    var description: String
    var lastStderrLine: String?

    /// ` (stderr: ValueError: bad total)`, or nothing.
    var stderrNote: String { lastStderrLine.map { " (stderr: \($0))" } ?? "" }
}

/// Reads a worker's stderr continuously (so a chatty worker never blocks on a full
/// pipe) and logs it line by line with the stage name; keeps the last line for error
/// messages.
final class StderrDrain: @unchecked Sendable {
    /// Longer stderr lines are logged in pieces of this size.
    static let maxLineBytes = 8 << 10

    let fd: Int32
    private let logger: Logger
    private let stageName: String
    private let pid: pid_t
    private let lock = ConditionLock()
    private var isStopping = false
    private var last: String?

    init(fd: Int32, logger: Logger, stageName: String, pid: pid_t) {
        self.fd = fd
        self.logger = logger
        self.stageName = stageName
        self.pid = pid
    }

    /// Asks the thread to finish once the pipe has nothing more to read.
    func stop() { lock.withLock { isStopping = true } }

    var lastLine: String? { lock.withLock { last } }

    package func run() {
        var pending: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&p, 1, 50)
            if ready == 0 {
                if lock.withLock({ isStopping }) { break }
                continue
            }
            if ready < 0 {
                if errno == EINTR { continue }
                break
            }
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n == 0 { break }
            if n < 0 {
                if errno == EAGAIN || errno == EINTR { continue }
                break
            }
            pending.append(contentsOf: chunk[0..<n])
            var start = 0
            for i in 0..<pending.count where pending[i] == UInt8(ascii: "\n") {
                emit(pending[start..<i])
                start = i + 1
            }
            pending.removeFirst(start)
            while pending.count > StderrDrain.maxLineBytes {
                emit(pending[0..<StderrDrain.maxLineBytes])
                pending.removeFirst(StderrDrain.maxLineBytes)
            }
        }
        if !pending.isEmpty { emit(pending[...]) }
    }

    private func emit(_ bytes: ArraySlice<UInt8>) {
        var text = String(decoding: bytes, as: UTF8.self)
        if text.hasSuffix("\r") { text.removeLast() }
        guard !text.allSatisfy({ $0 == " " || $0 == "\t" }) else { return }
        lock.withLock { last = text }
        logger.warning("\(text)", metadata: ["stage": "\(stageName)", "worker_pid": "\(pid)"], source: logSource)
    }
}
