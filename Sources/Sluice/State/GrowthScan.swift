#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Tells an NDJSON file that was only appended to since a run processed it from one that
/// was rewritten, and says where its new records start (a ``ReadStart``).
///
/// A done file that is larger than the ledger's entry is read from where it stopped when
/// its first `old size` bytes are unchanged: their XXH64 (the ledger's fingerprint is that
/// of the whole old file) must match, and they must be NDJSON — by `input.format`, the
/// file name, or their first bytes. The old bytes are hashed, not parsed (a plain read at
/// disk speed; a compressed file's old frames are also decoded, to count their lines), so a
/// grown file costs one more read of its old bytes, never a second copy of their records.
///
/// - A **plain** file resumes at its old size. When the old bytes end inside a line (no
///   newline yet), that line was framed as the file's last record; if the new bytes finish
///   it with nothing but blanks before the newline, it was complete and is not read again;
///   otherwise (a writer caught mid-line) the line is read again from its start, whole.
/// - A **compressed** file (gzip, zstd, bzip2, xz: every codec whose files may be
///   concatenated, not zlib) resumes at the frame boundary at its old size: the old bytes
///   must decode as complete frames with nothing after them, and the new bytes must start
///   a frame of the same codec. An unfinished last line is carried over in the same way.
///
/// Anything else — another format, the old bytes changed, a compressed prefix that does
/// not end at a frame boundary — is a rewrite, and `input.on_change` decides.
package enum GrowthScan {
    /// Bytes per `pread`.
    static let chunkSize = 256 << 10

    /// Where to resume `file`, which the ledger recorded as `previous`, or nil when it
    /// was not merely appended to (or cannot be read: the run's read then says why).
    package static func start(of file: InputFile, previous: Ledger.Entry, format: InputFormat, codecs: CodecOptions,
                      maxRecordBytes: Int) -> ReadStart? {
        guard file.problem == nil, previous.size > 0, file.size > previous.size,
              let expected = UInt64(previous.fingerprint, radix: 16) else { return nil }
        let named = FormatSniffer.framing(forName: file.relativePath, format: format)
        guard named == nil || named == .ndjson else { return nil }
        let fd = open(file.path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var head = [UInt8](repeating: 0, count: Codecs.magicLength)
        let headCount = head.withUnsafeMutableBytes { readFully(fd, into: $0.baseAddress!, count: min(Codecs.magicLength, previous.size), at: 0) }
        guard headCount > 0 else { return nil }
        let codec = head.withUnsafeBytes { Codecs.detect(UnsafeRawBufferPointer(rebasing: $0.prefix(headCount))) }
        var scan = LineCount(isSniffing: named == nil, format: format, maxRecordBytes: maxRecordBytes)
        var hash = Fingerprint()
        if let codec {
            guard codec.name != "zlib", let stream = try? CodecStream(codec: codec, options: codecs) else { return nil }
            var ended = true
            let ok = decode(fd, from: 0, to: previous.size, stream: stream, hash: &hash) { chunk in
                scan.feed(chunk)
                return true
            } atEnd: { ended = !stream.isInFrame && stream.trailingZeroBytes == 0 }
            guard ok, ended, hash.finish() == expected, scan.isNDJSON, let tail = scan.tail else { return nil }
            // The new bytes must start another frame of the same codec.
            var next = [UInt8](repeating: 0, count: Codecs.magicLength)
            let nextCount = next.withUnsafeMutableBytes { readFully(fd, into: $0.baseAddress!, count: Codecs.magicLength, at: previous.size) }
            guard nextCount > 0, next.withUnsafeBytes({ codec.matches(UnsafeRawBufferPointer(rebasing: $0.prefix(nextCount))) }) else { return nil }
            var carried: [UInt8] = []
            if !tail.isEmpty {
                guard let continuation = try? CodecStream(codec: codec, options: codecs) else { return nil }
                var scratch = Fingerprint()
                var blank: Bool?
                _ = decode(fd, from: previous.size, to: file.size, stream: continuation, hash: &scratch) { chunk in
                    blank = finishesLineWithBlanks(chunk)
                    return blank == nil
                } atEnd: {}
                if blank == false { carried = tail }   // continued: read the line again, whole
            }
            return ReadStart(offset: previous.size, previousSize: previous.size, line: scan.newlines + 1,
                             decodedOffset: scan.decodedBytes - carried.count, carried: carried, hash: hash)
        }
        // Plain: hash the old bytes, remembering the hash at the start of the last line.
        var lineStart = 0
        var hashAtLineStart = Fingerprint()
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        var position = 0
        while position < previous.size {
            let n = readFully(fd, into: buffer, count: min(chunkSize, previous.size - position), at: position)
            guard n > 0 else { return nil }
            let chunk = UnsafeBufferPointer(start: buffer.assumingMemoryBound(to: UInt8.self), count: n)
            scan.feed(chunk, keepsTail: false)
            if let last = lastNewline(chunk) {
                hash.update(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(chunk)[..<(last + 1)]))
                hashAtLineStart = hash
                lineStart = position + last + 1
                hash.update(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(chunk)[(last + 1)...]))
            } else {
                hash.update(UnsafeRawBufferPointer(chunk))
            }
            position += n
        }
        guard hash.finish() == expected, scan.isNDJSON else { return nil }
        let lineNumber = scan.newlines + 1
        if lineStart == previous.size {
            return ReadStart(offset: previous.size, previousSize: previous.size, line: lineNumber, decodedOffset: previous.size, hash: hash)
        }
        // The old bytes end inside a line: is it finished by blanks alone?
        var blank: Bool?
        var at = previous.size
        while blank == nil && at < file.size {
            let n = readFully(fd, into: buffer, count: min(chunkSize, file.size - at), at: at)
            guard n > 0 else { break }
            blank = finishesLineWithBlanks(UnsafeBufferPointer(start: buffer.assumingMemoryBound(to: UInt8.self), count: n))
            at += n
        }
        if blank != false {
            return ReadStart(offset: previous.size, previousSize: previous.size, line: lineNumber, decodedOffset: previous.size, hash: hash)
        }
        return ReadStart(offset: lineStart, previousSize: previous.size, line: lineNumber, decodedOffset: lineStart, hash: hashAtLineStart)
    }

    /// Counts the lines of the decoded old bytes, keeps the unfinished last one (for a
    /// compressed file), and checks that they read as NDJSON when the name does not say.
    private struct LineCount {
        var isSniffing: Bool
        let format: InputFormat
        let maxRecordBytes: Int
        var newlines = 0
        var decodedBytes = 0
        /// The bytes after the last newline; nil once longer than a record may be.
        var tail: [UInt8]? = []
        var head: [UInt8] = []
        var framing: Framing?

        init(isSniffing: Bool, format: InputFormat, maxRecordBytes: Int) {
            self.isSniffing = isSniffing
            self.format = format
            self.maxRecordBytes = maxRecordBytes
        }

        var isNDJSON: Bool {
            guard isSniffing else { return true }
            if framing == nil {
                let bom = FormatSniffer.bomLength(head, isComplete: true) ?? 0
                return FormatSniffer.framing(forHead: head[bom...], format: format, isComplete: true, lineLimit: maxRecordBytes) == .ndjson
            }
            return framing == .ndjson
        }

        mutating func feed(_ chunk: UnsafeBufferPointer<UInt8>, keepsTail: Bool = true) {
            guard let base = chunk.baseAddress, chunk.count > 0 else { return }
            decodedBytes += chunk.count
            if isSniffing && framing == nil {
                head.append(contentsOf: chunk.prefix(max(0, min(maxRecordBytes, 1 << 20) - head.count)))
                if let bom = FormatSniffer.bomLength(head, isComplete: false) {
                    framing = FormatSniffer.framing(forHead: head[bom...], format: format, isComplete: false, lineLimit: maxRecordBytes)
                }
            }
            var i = 0
            var last = -1
            while i < chunk.count, let found = memchr(base + i, 0x0A, chunk.count - i) {
                last = Int(bitPattern: found) - Int(bitPattern: base)
                newlines += 1
                i = last + 1
            }
            guard keepsTail else { return }
            if last >= 0 {
                tail = Array(chunk[(last + 1)...])
            } else {
                tail?.append(contentsOf: chunk)
            }
            if let kept = tail, kept.count > maxRecordBytes + 1 { tail = nil }
        }
    }

    /// True when `bytes` start with blanks and a newline, false when with anything else
    /// but blanks, nil when they are all blanks (look further).
    static func finishesLineWithBlanks(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool? {
        for byte in bytes {
            if byte == 0x0A { return true }
            if !isJSONSpace(byte) { return false }
        }
        return nil
    }

    private static func lastNewline(_ chunk: UnsafeBufferPointer<UInt8>) -> Int? {
        var i = chunk.count - 1
        while i >= 0 && chunk[i] != 0x0A { i -= 1 }
        return i >= 0 ? i : nil
    }

    /// Reads up to `count` bytes at `offset` (fewer only at the end of the file); -1 on error.
    private static func readFully(_ fd: Int32, into buffer: UnsafeMutableRawPointer, count: Int, at offset: Int) -> Int {
        var done = 0
        while done < count {
            let n = pread(fd, buffer + done, count - done, off_t(offset + done))
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return -1 }
            if n == 0 { break }
            done += n
        }
        return done
    }

    /// Decodes the compressed bytes `from..<to`, hashing them, and hands each decoded chunk
    /// to `body` until it returns false. Returns false when the data is bad or unreadable.
    private static func decode(_ fd: Int32, from: Int, to: Int, stream: CodecStream, hash: inout Fingerprint,
                               _ body: (UnsafeBufferPointer<UInt8>) -> Bool, atEnd: () -> Void) -> Bool {
        let inBuffer = UnsafeMutablePointer<UInt8>.allocate(capacity: chunkSize)
        let outBuffer = UnsafeMutablePointer<UInt8>.allocate(capacity: chunkSize)
        defer {
            inBuffer.deallocate()
            outBuffer.deallocate()
        }
        var position = from
        do throws(StreamError) {
            while position < to {
                let n = readFully(fd, into: inBuffer, count: min(chunkSize, to - position), at: position)
                guard n > 0 else { return false }
                position += n
                hash.update(UnsafeRawBufferPointer(start: inBuffer, count: n))
                stream.setInput(inBuffer, count: n)
                while true {
                    let before = stream.pendingInput
                    let produced = try stream.decode(into: outBuffer, capacity: chunkSize, inputIsFinal: position >= to)
                    if produced > 0 && !body(UnsafeBufferPointer(start: outBuffer, count: produced)) { return true }
                    if produced == 0 && (stream.pendingInput == 0 || stream.pendingInput == before) { break }
                }
            }
            while true {
                let produced = try stream.finish(into: outBuffer, capacity: chunkSize)
                if produced == 0 { break }
                if !body(UnsafeBufferPointer(start: outBuffer, count: produced)) { return true }
            }
        } catch {
            return false
        }
        atEnd()
        return true
    }
}
