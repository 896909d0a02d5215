#if canImport(Glibc)
import Glibc
import SluiceCore
#endif
import CCodecs

/// Intel's ISA-L (`libisal.so.2`, Debian `libisal2`), loaded at run time: the fastest
/// gzip inflate and deflate on x86-64 (several times zlib, about twice libdeflate on
/// this machine; see bench/RESULTS.md). Nil when the library is missing or
/// `SLUICE_CODECS=zlib`; gzip then goes through zlib (and libdeflate for output).
final class ISAL: Sendable {
    typealias InflateInit = @convention(c) (UnsafeMutablePointer<sluice_isal_inflate_state>?) -> Void
    typealias Inflate = @convention(c) (UnsafeMutablePointer<sluice_isal_inflate_state>?) -> Int32
    typealias DeflateInit = @convention(c) (UnsafeMutablePointer<sluice_isal_zstream>?) -> Void
    typealias Deflate = @convention(c) (UnsafeMutablePointer<sluice_isal_zstream>?) -> Int32

    static let soname = "libisal.so.2"
    static let package = "libisal2"
    static let shared: ISAL? = SharedLibrary.forcesFallback ? nil : library
    /// The library whatever `SLUICE_CODECS` says (for tests that compare both paths).
    static let library = ISAL(soname)

    let inflateInit: InflateInit
    let inflateReset: InflateInit
    let inflate: Inflate
    let deflateInit: DeflateInit
    let deflate: Deflate

    init?(_ soname: String) {
        guard let library = SharedLibrary(soname),
              let inflateInit = library.function("isal_inflate_init", as: InflateInit.self),
              let inflateReset = library.function("isal_inflate_reset", as: InflateInit.self),
              let inflate = library.function("isal_inflate", as: Inflate.self),
              let deflateInit = library.function("isal_deflate_init", as: DeflateInit.self),
              let deflate = library.function("isal_deflate", as: Deflate.self) else { return nil }
        self.inflateInit = inflateInit
        self.inflateReset = inflateReset
        self.inflate = inflate
        self.deflateInit = deflateInit
        self.deflate = deflate
    }

    // Values from igzip_lib.h.
    static let gzipFlag: UInt32 = 1          // ISAL_GZIP
    static let blockFinish: Int32 = 5        // ISAL_BLOCK_FINISH
    static let levelBufferSizes = [0, 282_624, 331_776, 348_160] // ISAL_DEF_LVL{1,2,3}_DEFAULT
}

/// Gzip members through ISA-L's streaming inflate, with the CRC-32 and length of every
/// member checked by the library.
final class GzipISALDecoder: FrameDecoder {
    private let library: ISAL
    private let state: UnsafeMutablePointer<sluice_isal_inflate_state>

    init(_ library: ISAL) {
        self.library = library
        state = .allocate(capacity: 1)
        library.inflateInit(state)
        state.pointee.crc_flag = ISAL.gzipFlag
    }

    deinit { state.deallocate() }

    func reset() throws(CodecError) {
        library.inflateReset(state)
        state.pointee.crc_flag = ISAL.gzipFlag
    }

    func decode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws(CodecError) -> DecodeStep {
        let inCount = min(input.count, Int(UInt32.max))
        let outCount = min(output.count, Int(UInt32.max))
        state.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: UInt8.self))
        state.pointee.avail_in = UInt32(inCount)
        state.pointee.next_out = output.baseAddress?.assumingMemoryBound(to: UInt8.self)
        state.pointee.avail_out = UInt32(outCount)
        let status = library.inflate(state)
        // After an error avail_in may not be exact (ISA-L buffers input bits): clamp.
        let consumed = max(0, min(inCount, inCount - Int(state.pointee.avail_in)))
        let step = DecodeStep(consumed: consumed, produced: outCount - Int(state.pointee.avail_out),
                              frameEnded: state.pointee.block_state == ISAL.blockFinish)
        guard status < 0 else { return step }
        do {
            try ISAL.fail(status, input: input, consumed: consumed, crc: state.pointee.crc)
        } catch {
            throw error.consumed(consumed)
        }
        return step
    }
}

extension ISAL {
    /// The zlib words for an ISA-L inflate error.
    static func fail(_ status: Int32, input: UnsafeRawBufferPointer, consumed: Int, crc: UInt32) throws(CodecError) {
        switch status {
        case -6: // ISAL_INCORRECT_CHECKSUM: the trailer (CRC-32, then ISIZE) was just read.
            guard consumed >= 8, let base = input.baseAddress else {
                throw CodecError("incorrect data or length check (the trailer's CRC-32 or length does not match the data)")
            }
            let trailer = base + consumed - 8
            let storedCRC = (0..<4).reduce(UInt32(0)) { $0 | UInt32(trailer.load(fromByteOffset: $1, as: UInt8.self)) << (8 * $1) }
            if storedCRC != crc { throw GzipZlibDecoder.explain("incorrect data check", rewind: 4) }
            throw GzipZlibDecoder.explain("incorrect length check")
        case -4: throw CodecError("incorrect header check")
        case -5: throw CodecError("unknown compression method")
        case -3: throw CodecError("invalid distance too far back")
        case -2: throw CodecError("invalid deflate symbol")
        case -1: throw CodecError("invalid deflate block")
        default: throw CodecError("ISA-L inflate error \(status)")
        }
    }
}

/// Gzip members through ISA-L's deflate (levels 1–3), for outputs. Streams and their
/// level buffers are kept for reuse, as ``DeflatePool`` does for zlib.
final class ISALDeflater: @unchecked Sendable {
    // @unchecked: `idle` is only touched under `lock`.
    static let shared = ISAL.shared.map(ISALDeflater.init)
    /// Whatever `SLUICE_CODECS` says (benchmarks compare the libraries).
    static let unforced = ISAL.library.map(ISALDeflater.init)

    private let library: ISAL
    private let lock = ConditionLock()
    private var idle: [Slot] = []

    /// A stream and its level buffer (sized for level 3, the largest).
    private struct Slot {
        let stream = UnsafeMutableRawPointer.allocate(byteCount: MemoryLayout<sluice_isal_zstream>.size, alignment: 64)
            .bindMemory(to: sluice_isal_zstream.self, capacity: 1)
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: ISAL.levelBufferSizes[3], alignment: 64)
        let size = ISAL.levelBufferSizes[3]
    }

    init(_ library: ISAL) { self.library = library }

    /// Appends one gzip member holding `bytes` at ISA-L `level` (1...3); false when the
    /// library refused (the caller then uses another compressor).
    ///
    /// - Parameter fill: Tests only: fill the level buffer with this byte first (stale state
    ///   a pooled buffer could hold), to show that nothing of it reaches the output.
    func gzip(_ bytes: UnsafeRawBufferPointer, level: Int, appendingTo out: inout [UInt8], fill: UInt8? = nil) -> Bool {
        let level = max(1, min(3, level))
        let size = ISAL.levelBufferSizes[level]
        let slot = lock.withLock { idle.popLast() } ?? Slot()
        defer {
            lock.withLock {
                if idle.count < 16 { idle.append(slot) } else { slot.stream.deallocate(); slot.buffer.deallocate() }
            }
        }
        let stream = slot.stream
        // A reused level buffer holds the last member's state, and none of it is read:
        // for a new stream ISA-L resets the part of the hash table it will use (its mask
        // narrowed to the input), clears the histogram of each block, and writes the
        // intermediate buffer, the Huffman tables and the block header before reading
        // them (igzip.c: reset_match_history, init_new_icf_block). Clearing the whole
        // ~280-340 KiB per member cost 1.4-1.6 % of the bench's CPU; the tests fill it
        // with junk (`fill`) and expect the same bytes, so a library that read stale
        // state would fail them. The stream itself is small and cleared.
        if let fill { memset(slot.buffer, Int32(fill), min(size, slot.size)) }
        memset(stream, 0, MemoryLayout<sluice_isal_zstream>.size)
        library.deflateInit(stream)
        stream.pointee.level = UInt32(level)
        stream.pointee.level_buf = slot.buffer.assumingMemoryBound(to: UInt8.self)
        stream.pointee.level_buf_size = UInt32(min(size, slot.size))
        stream.pointee.gzip_flag = 1 // IGZIP_GZIP
        let start = out.count
        let slice = 1 << 30
        var consumed = 0
        repeat {
            let take = min(slice, bytes.count - consumed)
            let isLast = consumed + take == bytes.count
            stream.pointee.next_in = bytes.baseAddress.map { UnsafeMutablePointer(mutating: $0.assumingMemoryBound(to: UInt8.self) + consumed) }
            stream.pointee.avail_in = UInt32(take)
            stream.pointee.end_of_stream = isLast ? 1 : 0
            consumed += take
            while true {
                let room = take / 2 + 4096
                let used = out.count
                out.append(contentsOf: repeatElement(0, count: room))
                let status = out.withUnsafeMutableBufferPointer { buffer in
                    stream.pointee.next_out = buffer.baseAddress! + used
                    stream.pointee.avail_out = UInt32(room)
                    return library.deflate(stream)
                }
                let spare = Int(stream.pointee.avail_out)
                out.removeLast(spare)
                guard status == 0 else {
                    out.removeSubrange(start...)
                    return false
                }
                // Done with this slice when its input is in and, for the last one, the
                // trailer fit (the library stops early only when the output is full).
                if stream.pointee.avail_in == 0 && (!isLast || spare > 0) { break }
            }
        } while consumed < bytes.count
        return true
    }
}
