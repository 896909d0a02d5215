import CZlib

/// A streaming gzip decoder over zlib that reads concatenated members as one stream.
///
/// The caller owns both buffers: it points the inflater at compressed input with
/// ``setInput(_:count:)`` and asks for output with ``inflate(into:capacity:)``. After a
/// member ends the inflater resets itself as soon as more input arrives, so multi-member
/// files (as written by ``GzipMember`` from several threads) decode whole. Bytes after a
/// member that do not start a valid member are an error, not ignored padding.
final class GzipInflater {
    private let stream: UnsafeMutablePointer<z_stream>
    /// True between the first byte of a member and its trailer.
    private(set) var isInMember = false
    private var needsReset = false
    /// Members decoded to their trailer so far.
    private(set) var finishedMembers = 0

    init() {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let status = inflateInit2_(stream, 15 + 16, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        precondition(status == Z_OK, "inflateInit2 failed (\(status))")
    }

    deinit {
        inflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// Compressed bytes not consumed yet.
    var pendingInput: Int { Int(stream.pointee.avail_in) }

    /// Supplies the next compressed bytes; they must stay valid until consumed.
    func setInput(_ bytes: UnsafeMutablePointer<UInt8>, count: Int) {
        stream.pointee.next_in = bytes
        stream.pointee.avail_in = UInt32(count)
    }

    /// Decodes pending input into `output`, stopping when the input runs out or the output is full.
    ///
    /// - Returns: the number of bytes written to `output`.
    /// - Throws: the zlib message (`incorrect data check`, `invalid block type`, …) for bad data.
    func inflate(into output: UnsafeMutablePointer<UInt8>, capacity: Int) throws(GzipDataError) -> Int {
        stream.pointee.next_out = output
        stream.pointee.avail_out = UInt32(capacity)
        // zlib may hold decoded bytes back when the output fills, so keep calling while
        // there is room, even without input, until a call makes no progress.
        while stream.pointee.avail_out > 0 {
            if needsReset {
                if stream.pointee.avail_in == 0 { break }
                inflateReset(stream)
                needsReset = false
            }
            isInMember = true
            let inputBefore = stream.pointee.avail_in
            let outputBefore = stream.pointee.avail_out
            let status = CZlib.inflate(stream, Z_NO_FLUSH)
            switch status {
            case Z_STREAM_END:
                isInMember = false
                needsReset = true
                finishedMembers += 1
            case Z_OK, Z_BUF_ERROR:
                if stream.pointee.avail_in == inputBefore && stream.pointee.avail_out == outputBefore { return capacity - Int(stream.pointee.avail_out) }
            default:
                let message = stream.pointee.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                throw GzipDataError(message: message, member: finishedMembers + 1)
            }
        }
        return capacity - Int(stream.pointee.avail_out)
    }
}

/// Bad gzip data, as zlib describes it.
struct GzipDataError: Error {
    var message: String
    /// 1-based index of the member holding the bad bytes.
    var member: Int
}
