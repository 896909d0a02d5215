import CZlib

/// The zlib decoder of gzip members (and, with `isGzip: false`, of zlib streams): the
/// fallback when ISA-L is missing or `SLUICE_CODECS=zlib`.
///
/// Error messages are zlib's, with what they mean added; ``GzipISALDecoder`` says the
/// same words for the same faults, so a report does not depend on the library.
final class GzipZlibDecoder: FrameDecoder {
    private let stream: UnsafeMutablePointer<z_stream>
    private let format: String

    init(isGzip: Bool = true) {
        format = isGzip ? "gzip" : "zlib"
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let status = inflateInit2_(stream, isGzip ? 15 + 16 : 15, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        precondition(status == Z_OK, "inflateInit2 failed (\(status))")
    }

    deinit {
        inflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    func reset() throws(CodecError) {
        inflateReset(stream)
    }

    func decode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws(CodecError) -> DecodeStep {
        // zlib counts in UInt32; the reader's chunks are far smaller, but stay safe.
        let inCount = min(input.count, Int(UInt32.max))
        let outCount = min(output.count, Int(UInt32.max))
        stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: UInt8.self))
        stream.pointee.avail_in = UInt32(inCount)
        stream.pointee.next_out = output.baseAddress?.assumingMemoryBound(to: UInt8.self)
        stream.pointee.avail_out = UInt32(outCount)
        let status = CZlib.inflate(stream, Z_NO_FLUSH)
        let step = DecodeStep(consumed: inCount - Int(stream.pointee.avail_in), produced: outCount - Int(stream.pointee.avail_out),
                              frameEnded: status == Z_STREAM_END)
        switch status {
        case Z_OK, Z_STREAM_END, Z_BUF_ERROR:
            return step
        case Z_NEED_DICT:
            throw CodecError("the \(format) stream needs a preset dictionary").consumed(step.consumed)
        default:
            let message = stream.pointee.msg.map { String(cString: $0) } ?? "zlib error \(status)"
            throw GzipZlibDecoder.explain(message).consumed(step.consumed)
        }
    }

    /// zlib's message, with what it means for a reader of the error report.
    static func explain(_ message: String, rewind: Int = 0) -> CodecError {
        switch message {
        case "incorrect data check": return CodecError(message + " (CRC-32 mismatch: the data is corrupt)", rewind: rewind)
        case "incorrect length check": return CodecError(message + " (the trailer's length does not match the data)", rewind: rewind)
        default: return CodecError(message, rewind: rewind)
        }
    }
}
