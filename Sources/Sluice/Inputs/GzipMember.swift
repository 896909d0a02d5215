import CZlib

/// Writes complete gzip members, for compressed outputs.
///
/// Each call produces one self-contained member (header, deflate data, CRC-32 and
/// length trailer). Members compressed independently — on different threads, from
/// consecutive chunks of an output — can be concatenated into one valid `.gz` file, which
/// `gzip -d` and ``FileReader`` read as one stream.
///
/// ```swift
/// var out: [UInt8] = []
/// chunk.withUnsafeBytes { GzipMember.compress($0, level: 6, appendingTo: &out) }
/// ```
public enum GzipMember {
    /// Compresses `bytes` into one gzip member appended to `out`.
    ///
    /// - Parameters:
    ///   - bytes: the data to compress (may be empty).
    ///   - level: zlib level, 0 (store) to 9 (smallest); -1 for zlib's default. Clamped.
    ///   - out: receives the member after its current contents.
    /// - Complexity: O(n); grows `out` by at most `deflateBound(n)` bytes.
    public static func compress(_ bytes: UnsafeRawBufferPointer, level: Int, appendingTo out: inout [UInt8]) {
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        defer {
            deflateEnd(stream)
            stream.deinitialize(count: 1)
            stream.deallocate()
        }
        let clamped = Int32(max(-1, min(9, level)))
        let status = deflateInit2_(stream, clamped, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
                                   zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        precondition(status == Z_OK, "deflateInit2 failed (\(status))")

        // deflate counts in UInt32; feed very large inputs in slices.
        let slice = 1 << 30
        var consumed = 0
        var finished = false
        while !finished {
            let take = min(slice, bytes.count - consumed)
            let isLast = consumed + take == bytes.count
            if let base = bytes.baseAddress {
                stream.pointee.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: UInt8.self) + consumed)
            }
            stream.pointee.avail_in = UInt32(take)
            consumed += take
            repeat {
                let room = Int(deflateBound(stream, UInt(take))) + 64
                let used = out.count
                out.append(contentsOf: repeatElement(0, count: room))
                let status = out.withUnsafeMutableBufferPointer { buffer in
                    stream.pointee.next_out = buffer.baseAddress! + used
                    stream.pointee.avail_out = UInt32(room)
                    return deflate(stream, isLast ? Z_FINISH : Z_NO_FLUSH)
                }
                out.removeLast(Int(stream.pointee.avail_out))
                precondition(status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR, "deflate failed (\(status))")
                finished = status == Z_STREAM_END
            } while isLast ? !finished : stream.pointee.avail_in > 0
        }
    }
}
