import CZlib
import SluiceCore

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
///
/// Levels 1–3 use ISA-L when the machine has it (see ``ISALDeflater``); the others, and
/// every level without ISA-L, use libdeflate when the machine has it (see ``LibDeflate``),
/// zlib otherwise. `SLUICE_CODECS=zlib` forces zlib.
public enum GzipMember {
    /// Compresses `bytes` into one gzip member appended to `out`.
    ///
    /// - Parameters:
    ///   - bytes: the data to compress (may be empty).
    ///   - level: zlib level, 0 (store) to 9 (smallest); -1 for zlib's default. Clamped.
    ///   - out: receives the member after its current contents.
    /// - Complexity: O(n); grows `out` by at most `deflateBound(n)` bytes.
    public static func compress(_ bytes: UnsafeRawBufferPointer, level: Int, appendingTo out: inout [UInt8]) {
        let clamped = Int32(max(-1, min(9, level)))
        // ISA-L for the fast levels; libdeflate, then zlib, for the rest (ISA-L's
        // best, its level 3, compresses less than zlib's 6). A small member goes to
        // libdeflate too: ISA-L's fixed cost per member (clearing its ~340 KiB level
        // buffer, building Huffman tables) outweighs its speed below ~16 KiB, and
        // 20,000 tiny files made it most of a run's compression time. The choice depends
        // only on the member's own bytes, so output still does not depend on worker counts.
        if (1...3).contains(level), bytes.count >= Self.isalMinimumBytes || LibDeflate.shared == nil,
           let isal = ISALDeflater.shared, isal.gzip(bytes, level: level, appendingTo: &out) { return }
        if let fast = LibDeflate.shared, fast.gzip(bytes, level: clamped, appendingTo: &out) { return }
        compressWithZlib(bytes, level: clamped, appendingTo: &out)
    }

    /// Below this many input bytes a fast-level member is compressed by libdeflate when
    /// it is installed (see ``compress(_:level:appendingTo:)``).
    static let isalMinimumBytes = 16 << 10

    /// A gzip compressor library, for benchmarks that compare them.
    public enum Library: String, Sendable, CaseIterable { case isal = "ISA-L", libdeflate, zlib }

    /// Compresses `bytes` with one given library; false when it is not installed (or,
    /// for ISA-L, `level` is not 1–3).
    public static func compress(_ bytes: UnsafeRawBufferPointer, level: Int, library: Library, appendingTo out: inout [UInt8]) -> Bool {
        switch library {
        case .isal:
            guard (1...3).contains(level), let isal = ISALDeflater.unforced else { return false }
            return isal.gzip(bytes, level: level, appendingTo: &out)
        case .libdeflate:
            guard let fast = LibDeflate.unforced else { return false }
            return fast.gzip(bytes, level: Int32(level), appendingTo: &out)
        case .zlib:
            compressWithZlib(bytes, level: Int32(max(-1, min(9, level))), appendingTo: &out)
            return true
        }
    }

    /// The zlib path of ``compress(_:level:appendingTo:)``.
    static func compressWithZlib(_ bytes: UnsafeRawBufferPointer, level clamped: Int32, appendingTo out: inout [UInt8]) {
        let stream = DeflatePool.shared.take(level: clamped)
        defer { DeflatePool.shared.give(stream, level: clamped) }

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


/// Deflate streams kept for reuse: `deflateInit2` allocates and clears ~270 KiB of
/// state, which per batch costs more than it needs to; `deflateReset` keeps it.
/// Thread-safe; holds at most a few streams per level (one per thread that compressed
/// at once).
final class DeflatePool: @unchecked Sendable {
    static let shared = DeflatePool()
    private let lock = ConditionLock()
    private var idle: [Int32: [UnsafeMutablePointer<z_stream>]] = [:]

    func take(level: Int32) -> UnsafeMutablePointer<z_stream> {
        if let stream = lock.withLock({ idle[level]?.popLast() }) {
            deflateReset(stream)
            return stream
        }
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        // memLevel 8 (zlib's default); windowBits 15 + 16: gzip.
        let status = deflateInit2_(stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
                                   zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        precondition(status == Z_OK, "deflateInit2 failed (\(status))")
        return stream
    }

    func give(_ stream: UnsafeMutablePointer<z_stream>, level: Int32) {
        let kept = lock.withLock { () -> Bool in
            guard idle[level, default: []].count < 16 else { return false }
            idle[level, default: []].append(stream)
            return true
        }
        if !kept {
            deflateEnd(stream)
            stream.deinitialize(count: 1)
            stream.deallocate()
        }
    }
}
