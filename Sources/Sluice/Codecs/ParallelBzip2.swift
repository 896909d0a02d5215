#if canImport(Glibc)
import Glibc
import SluiceCore
#elseif canImport(Darwin)
import Darwin
#endif

/// Decodes one bzip2 file on several threads, split at stream boundaries, handing out
/// the decoded bytes in file order — the same bytes, records and errors as reading it
/// on one thread.
///
/// A splitter thread reads the file and cuts it into segments of about
/// ``Settings/targetSegment`` compressed bytes at a *candidate* stream start: a
/// byte-aligned `BZh1`–`BZh9` followed by the 48-bit block or end-of-stream magic (each
/// bzip2 stream starts byte-aligned; multi-stream files such as Wikipedia's
/// `*-multistream.xml.bz2`, `lbzip2`'s and `pbzip2`'s have many). Worker threads decode
/// segments at once, each into its own small queue of chunks. A candidate is only a
/// guess: when a segment's decoder ends inside a stream (the candidate was data, or a
/// segment was cut at ``Settings/maxSegment`` without one), its worker goes on with the
/// next segment's bytes itself and the next segment's own decoding is dropped. So a
/// single-stream file decodes correctly, on one thread at a time.
///
/// A worker decides whether to go on into the next segment only once its own segment is
/// confirmed (the one before ended cleanly), so a segment decoded from a false start
/// never drops another.
///
/// Memory: at most `threads + 2` segments in flight, each at most
/// ``Settings/maxSegment`` compressed bytes plus ``Settings/queuedBytes`` decoded bytes.
/// Backpressure: workers wait when their segment's queue is full, the splitter when
/// enough segments are in flight. ``stop()`` wakes and joins every thread.
final class ParallelBzip2: @unchecked Sendable {
    // @unchecked: every mutable field is guarded by `lock`, except each job's `bytes`
    // (immutable) and the splitter's reading state (its thread's own until joined).
    struct Settings {
        var threads: Int
        var chunkSize: Int
        var targetSegment = 512 << 10
        var maxSegment = 4 << 20
        var readSize = 1 << 20
        /// Decoded bytes a segment may hold ahead of the reader: enough for a whole
        /// segment of text, so a worker rarely waits for the reader.
        var queuedBytes = 16 << 20
    }

    private final class Job {
        let index: Int
        /// File offset of `bytes[0]`.
        let offset: Int
        let bytes: [UInt8]
        let startsAtCandidate: Bool
        // Guarded by the owner's lock:
        var absorbed = false
        /// The segment starts where the previous one's streams ended: its own decoding
        /// is the file's (job 0 always; the next one once a job ends cleanly).
        var isConfirmed = false
        var chunks: [[UInt8]] = []
        var queuedBytes = 0
        var isDone = false
        var fault: InputFault?

        init(index: Int, offset: Int, bytes: [UInt8], startsAtCandidate: Bool) {
            self.index = index
            self.offset = offset
            self.bytes = bytes
            self.startsAtCandidate = startsAtCandidate
        }
    }

    private let settings: Settings
    private let fd: Int32
    private let fileSize: Int
    private let lock = ConditionLock()
    // Guarded by `lock`:
    private var jobs: [Int: Job] = [:]
    private var produced = 0
    private var taken = 0
    private var consumed = 0
    private var totalJobs: Int?
    private var splitterFault: InputFault?
    private var stopping = false
    private var trailingZeros = 0
    // The splitter's own, read after it is joined:
    private var hasher: Fingerprint
    private(set) var bytesRead: Int
    // The consumer's own:
    private let handed: UnsafeMutablePointer<UInt8>
    private var threads: [WorkerThread] = []

    /// Starts decoding. `head` holds the file's first bytes, already read (and hashed
    /// into `hasher`); the splitter reads on from there.
    init(fd: Int32, fileSize: Int, head: UnsafeBufferPointer<UInt8>, hasher: Fingerprint, settings: Settings) {
        self.fd = fd
        self.fileSize = fileSize
        self.hasher = hasher
        self.settings = settings
        bytesRead = head.count
        handed = .allocate(capacity: max(1, settings.chunkSize))
        let first = Array(head)
        threads.append(WorkerThread(name: "sluice-bz2split") { [self] in split(first) })
        for _ in 0..<max(1, settings.threads) {
            threads.append(WorkerThread(name: "sluice-bz2") { [self] in work() })
        }
    }

    deinit {
        stop()
        handed.deallocate()
    }

    /// The fingerprint of the bytes read, once ``stop()`` has joined the splitter.
    package var fingerprint: Fingerprint { hasher }

    /// What was accepted with a warning (zero padding after the last stream).
    var warnings: [String] {
        lock.withLock { trailingZeros > 0 ? ["\(trailingZeros) zero bytes of padding after the last bzip2 stream ignored (as gzip does)"] : [] }
    }

    /// The next decoded chunk, in file order, valid until the next call; nil at the end.
    package func next() throws(InputFault) -> UnsafeBufferPointer<UInt8>? {
        let outcome: Result<[UInt8]?, InputFault> = lock.withLock {
            while true {
                guard let job = jobs[consumed] else {
                    if let totalJobs, consumed >= totalJobs { return .success(nil) }
                    if let splitterFault { return .failure(splitterFault) }
                    lock.wait()
                    continue
                }
                if job.absorbed {
                    jobs[consumed] = nil
                    consumed += 1
                    lock.broadcast()
                    continue
                }
                if !job.chunks.isEmpty {
                    let chunk = job.chunks.removeFirst()
                    job.queuedBytes -= chunk.count
                    lock.broadcast()
                    return .success(chunk)
                }
                if let fault = job.fault { return .failure(fault) }
                if job.isDone {
                    jobs[consumed] = nil
                    consumed += 1
                    lock.broadcast()
                    continue
                }
                lock.wait()
            }
        }
        switch outcome {
        case .success(let chunk?):
            _ = UnsafeMutableBufferPointer(start: handed, count: chunk.count).initialize(from: chunk)
            return UnsafeBufferPointer(start: handed, count: chunk.count)
        case .success(nil):
            return nil
        case .failure(let fault):
            throw fault
        }
    }

    /// Stops and joins every thread; chunks not handed out are dropped.
    func stop() {
        lock.withLock {
            stopping = true
            lock.broadcast()
        }
        for thread in threads { thread.join() }
        threads = []
    }

    // MARK: Splitter

    /// True when `bytes[i...]` starts a bzip2 stream with a block or is an empty stream.
    static func isStreamStart(_ bytes: UnsafeBufferPointer<UInt8>, at i: Int) -> Bool {
        guard i + 10 <= bytes.count, bytes[i] == 0x42, bytes[i + 1] == 0x5A, bytes[i + 2] == 0x68,
              (0x31...0x39).contains(bytes[i + 3]) else { return false }
        let block: [UInt8] = [0x31, 0x41, 0x59, 0x26, 0x53, 0x59], end: [UInt8] = [0x17, 0x72, 0x45, 0x38, 0x50, 0x90]
        return (0..<6).allSatisfy { bytes[i + 4 + $0] == block[$0] } || (0..<6).allSatisfy { bytes[i + 4 + $0] == end[$0] }
    }

    private func split(_ first: [UInt8]) {
        var buffer = first
        var offset = 0
        var startsAtCandidate = true
        var scanned = 1 // never cut at the very start of a segment
        let chunk = UnsafeMutablePointer<UInt8>.allocate(capacity: settings.readSize)
        defer { chunk.deallocate() }
        func emit(_ count: Int, nextStartsAtCandidate: Bool) -> Bool {
            let job = Job(index: produced, offset: offset, bytes: Array(buffer[0..<count]), startsAtCandidate: startsAtCandidate)
            job.isConfirmed = job.index == 0
            let keepGoing: Bool = lock.withLock {
                while jobs.count >= settings.threads + 2 && !stopping { lock.wait() }
                guard !stopping else { return false }
                jobs[job.index] = job
                produced += 1
                lock.broadcast()
                return true
            }
            buffer.removeFirst(count)
            offset += count
            startsAtCandidate = nextStartsAtCandidate
            scanned = 1
            return keepGoing
        }
        while true {
            var n = 0
            repeat { n = read(fd, chunk, settings.readSize) } while n < 0 && errno == EINTR
            if n < 0 {
                let message = "read failed at byte \(bytesRead): " + DirectoryScanner.describe(errno)
                lock.withLock {
                    splitterFault = .io(message: message, offset: bytesRead)
                    lock.broadcast()
                }
                return
            }
            if n == 0 {
                if !buffer.isEmpty && !emit(buffer.count, nextStartsAtCandidate: true) { return }
                lock.withLock {
                    totalJobs = produced
                    lock.broadcast()
                }
                return
            }
            hasher.update(UnsafeRawBufferPointer(start: chunk, count: n))
            bytesRead += n
            buffer.append(contentsOf: UnsafeBufferPointer(start: chunk, count: n))
            while buffer.count >= settings.targetSegment {
                let cut: Int? = buffer.withUnsafeBufferPointer { bytes in
                    var i = max(scanned, settings.targetSegment)
                    while i + 10 <= bytes.count {
                        if bytes[i] == 0x42 && ParallelBzip2.isStreamStart(bytes, at: i) { return i }
                        i += 1
                    }
                    scanned = max(scanned, bytes.count - 9)
                    return nil
                }
                if let cut {
                    if !emit(cut, nextStartsAtCandidate: true) { return }
                } else if buffer.count >= settings.maxSegment {
                    if !emit(settings.maxSegment, nextStartsAtCandidate: false) { return }
                } else {
                    break
                }
            }
        }
    }

    // MARK: Workers

    private func work() {
        while true {
            let job: Job? = lock.withLock {
                while !stopping {
                    if let job = jobs[taken] {
                        taken += 1
                        return job
                    }
                    if let totalJobs, taken >= totalJobs { return nil }
                    if splitterFault != nil { return nil }
                    lock.wait()
                }
                return nil
            }
            guard let job else { return }
            // A segment cut without a candidate is decoded by the worker of the one before.
            guard job.startsAtCandidate else { continue }
            decode(job)
        }
    }

    private enum Step { case next(Job), finished, dropped }

    private func decode(_ job: Job) {
        let stream: CodecStream
        do {
            stream = try CodecStream(codec: Bzip2Codec(), options: CodecOptions())
        } catch {
            finish(job, fault: .io(message: error.message, offset: job.offset))
            return
        }
        var current = job
        var buffer = [UInt8](repeating: 0, count: settings.chunkSize)
        while true {
            let isLast = lock.withLock { totalJobs.map { current.index == $0 - 1 } ?? false }
            do throws(StreamError) {
                let keep = try current.bytes.withUnsafeBufferPointer { (bytes) throws(StreamError) -> Bool in
                    guard let base = bytes.baseAddress else { return true }
                    stream.setInput(base, count: bytes.count)
                    while true {
                        let before = stream.pendingInput
                        let count = try buffer.withUnsafeMutableBufferPointer { (out) throws(StreamError) -> Int in
                            try stream.decode(into: out.baseAddress!, capacity: out.count,
                                              inputIsFinal: isLast && current.offset + bytes.count >= fileSize)
                        }
                        if count > 0 {
                            if !push(Array(buffer[0..<count]), to: job) { return false }
                        } else if stream.pendingInput == 0 || stream.pendingInput == before {
                            return true
                        }
                    }
                }
                if !keep { return }
            } catch {
                let end = current.offset + current.bytes.count
                finish(job, fault: DecodedInput.fault(error, in: stream, fileBytes: error.isTruncation ? fileSize : end))
                return
            }
            // The end of this segment's bytes: go on into the next one, or end the job.
            let step: Step = lock.withLock {
                while !stopping && !job.absorbed {
                    guard job.isConfirmed else {
                        lock.wait()
                        continue
                    }
                    if let next = jobs[current.index + 1] {
                        if stream.isInFrame || !next.startsAtCandidate || stream.trailingZeroBytes > 0 {
                            next.absorbed = true
                            lock.broadcast()
                            return .next(next)
                        }
                        next.isConfirmed = true
                        lock.broadcast()
                        return .finished
                    }
                    if let totalJobs, current.index + 1 >= totalJobs { return .finished }
                    if splitterFault != nil { return .finished }
                    lock.wait()
                }
                return .dropped
            }
            switch step {
            case .next(let next):
                current = next
            case .dropped:
                return
            case .finished:
                let atEnd = lock.withLock { totalJobs.map { current.index + 1 >= $0 } ?? false }
                if atEnd {
                    do throws(StreamError) {
                        while true {
                            let count = try buffer.withUnsafeMutableBufferPointer { (out) throws(StreamError) -> Int in
                                try stream.finish(into: out.baseAddress!, capacity: out.count)
                            }
                            if count == 0 { break }
                            if !push(Array(buffer[0..<count]), to: job) { return }
                        }
                    } catch {
                        finish(job, fault: DecodedInput.fault(error, in: stream, fileBytes: fileSize))
                        return
                    }
                    let zeros = stream.trailingZeroBytes
                    lock.withLock { trailingZeros = zeros }
                }
                finish(job, fault: nil)
                return
            }
        }
    }

    /// Queues a decoded chunk; false when the job was dropped or the decoder stopped.
    private func push(_ chunk: [UInt8], to job: Job) -> Bool {
        lock.withLock {
            while !job.chunks.isEmpty && job.queuedBytes + chunk.count > settings.queuedBytes && !stopping && !job.absorbed { lock.wait() }
            guard !stopping && !job.absorbed else { return false }
            job.chunks.append(chunk)
            job.queuedBytes += chunk.count
            lock.broadcast()
            return true
        }
    }

    private func finish(_ job: Job, fault: InputFault?) {
        lock.withLock {
            job.fault = fault
            job.isDone = true
            lock.broadcast()
        }
    }
}
