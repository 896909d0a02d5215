import CCodecs
import SluiceCore

/// Zstandard (RFC 8878): magic `28 b5 2f fd` (and skippable frames, `5? 2a 4d 18`),
/// through `libzstd.so.1` (Debian `libzstd1`), loaded at run time. Read streaming, every
/// frame of a file in turn, with the window bounded by `input.max_window` (default
/// 2 GiB, enough for `zstd --long=31`); written one frame per batch at `output.level`
/// 1–19 (default 3).
struct ZstdCodec: Codec {
    let name = "zstd"
    let frameNoun = "frame"
    let suffixes = [".zst", ".zstd"]
    let package = ZstdLibrary.package

    func matches(_ head: UnsafeRawBufferPointer) -> Bool {
        guard head.count >= 4 else { return false }
        if head[0] == 0x28 && head[1] == 0xB5 && head[2] == 0x2F && head[3] == 0xFD { return true }
        return head[0] & 0xF0 == 0x50 && head[1] == 0x2A && head[2] == 0x4D && head[3] == 0x18
    }

    func makeFrameDecoder(_ options: CodecOptions) throws(CodecError) -> any FrameDecoder {
        guard let library = ZstdLibrary.shared else {
            throw SharedLibrary.missing(ZstdLibrary.soname, format: name, package: package)
        }
        return try ZstdDecoder(library, maxWindow: options.maxWindow)
    }

    var encoder: (any BlockEncoder)? { ZstdEncoder() }
}

/// The few functions of libzstd that Sluice calls.
final class ZstdLibrary: Sendable {
    typealias Create = @convention(c) () -> OpaquePointer?
    typealias Free = @convention(c) (OpaquePointer?) -> Int
    typealias SetParameter = @convention(c) (OpaquePointer?, Int32, Int32) -> Int
    typealias Reset = @convention(c) (OpaquePointer?, Int32) -> Int
    typealias DecompressStream = @convention(c) (OpaquePointer?, UnsafeMutablePointer<sluice_zstd_out_buffer>?, UnsafeMutablePointer<sluice_zstd_in_buffer>?) -> Int
    typealias IsError = @convention(c) (Int) -> UInt32
    typealias ErrorName = @convention(c) (Int) -> UnsafePointer<CChar>?
    typealias Compress = @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?, Int, UnsafeRawPointer?, Int, Int32) -> Int
    typealias Bound = @convention(c) (Int) -> Int

    static let soname = "libzstd.so.1"
    static let package = "libzstd1"
    static let shared = ZstdLibrary()

    let createDCtx: Create, freeDCtx: Free, setParameter: SetParameter, reset: Reset
    let decompressStream: DecompressStream, isError: IsError, errorName: ErrorName
    let createCCtx: Create, freeCCtx: Free, compress: Compress, bound: Bound

    private init?() {
        guard let lib = SharedLibrary(ZstdLibrary.soname),
              let createDCtx = lib.function("ZSTD_createDCtx", as: Create.self),
              let freeDCtx = lib.function("ZSTD_freeDCtx", as: Free.self),
              let setParameter = lib.function("ZSTD_DCtx_setParameter", as: SetParameter.self),
              let reset = lib.function("ZSTD_DCtx_reset", as: Reset.self),
              let decompressStream = lib.function("ZSTD_decompressStream", as: DecompressStream.self),
              let isError = lib.function("ZSTD_isError", as: IsError.self),
              let errorName = lib.function("ZSTD_getErrorName", as: ErrorName.self),
              let createCCtx = lib.function("ZSTD_createCCtx", as: Create.self),
              let freeCCtx = lib.function("ZSTD_freeCCtx", as: Free.self),
              let compress = lib.function("ZSTD_compressCCtx", as: Compress.self),
              let bound = lib.function("ZSTD_compressBound", as: Bound.self) else { return nil }
        (self.createDCtx, self.freeDCtx, self.setParameter, self.reset) = (createDCtx, freeDCtx, setParameter, reset)
        (self.decompressStream, self.isError, self.errorName) = (decompressStream, isError, errorName)
        (self.createCCtx, self.freeCCtx, self.compress, self.bound) = (createCCtx, freeCCtx, compress, bound)
    }

    func message(_ code: Int) -> String {
        errorName(code).map { String(cString: $0) } ?? "zstd error \(code)"
    }

    /// `ZSTD_d_windowLogMax` for a window of `bytes`: its log2, rounded up, 10...31.
    static func windowLog(_ bytes: Int) -> Int32 {
        var log: Int32 = 10
        while log < 31 && (1 << log) < bytes { log += 1 }
        return log
    }
}

final class ZstdDecoder: FrameDecoder {
    private let library: ZstdLibrary
    private let context: OpaquePointer
    private let maxWindow: Int

    init(_ library: ZstdLibrary, maxWindow: Int) throws(CodecError) {
        guard let context = library.createDCtx() else { throw CodecError("zstd: cannot allocate a decoder") }
        self.library = library
        self.context = context
        self.maxWindow = maxWindow
        let status = library.setParameter(context, 100 /* ZSTD_d_windowLogMax */, ZstdLibrary.windowLog(maxWindow))
        if library.isError(status) != 0 { throw CodecError("zstd: " + library.message(status)) }
    }

    deinit { _ = library.freeDCtx(context) }

    func reset() throws(CodecError) {
        _ = library.reset(context, 1 /* ZSTD_reset_session_only */)
    }

    func decode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws(CodecError) -> DecodeStep {
        var inBuffer = sluice_zstd_in_buffer(src: input.baseAddress, size: input.count, pos: 0)
        var outBuffer = sluice_zstd_out_buffer(dst: output.baseAddress, size: output.count, pos: 0)
        let status = library.decompressStream(context, &outBuffer, &inBuffer)
        if library.isError(status) != 0 {
            var message = library.message(status)
            if message.contains("too much memory") || message.contains("indow") {
                message += " (the frame's window is larger than input.max_window, \(maxWindow) bytes: raise it to read this file)"
            }
            throw CodecError(message).consumed(inBuffer.pos)
        }
        return DecodeStep(consumed: inBuffer.pos, produced: outBuffer.pos, frameEnded: status == 0)
    }
}

struct ZstdEncoder: BlockEncoder {
    let levels = 1...19
    let defaultLevel = 3

    func compress(_ bytes: UnsafeRawBufferPointer, level: Int, appendingTo out: inout [UInt8]) {
        // `Codecs.encoder(named:)` only hands this out when the library is loaded.
        let library = ZstdLibrary.shared!
        let context = ZstdContexts.shared.take(library)
        defer { ZstdContexts.shared.give(context, library) }
        let room = library.bound(bytes.count)
        let used = out.count
        out.append(contentsOf: repeatElement(0, count: room))
        let written = out.withUnsafeMutableBytes { buffer in
            library.compress(context, buffer.baseAddress! + used, room, bytes.baseAddress, bytes.count, Int32(level))
        }
        precondition(library.isError(written) == 0, "ZSTD_compressCCtx failed: \(library.message(written))")
        out.removeLast(room - written)
    }
}

/// Compression contexts kept for reuse (one per thread that compressed at once).
final class ZstdContexts: @unchecked Sendable {
    // @unchecked: `idle` is only touched under `lock`.
    static let shared = ZstdContexts()
    private let lock = ConditionLock()
    private var idle: [OpaquePointer] = []

    func take(_ library: ZstdLibrary) -> OpaquePointer {
        if let context = lock.withLock({ idle.popLast() }) { return context }
        guard let context = library.createCCtx() else { fatalError("ZSTD_createCCtx: out of memory") }
        return context
    }

    func give(_ context: OpaquePointer, _ library: ZstdLibrary) {
        let kept = lock.withLock { () -> Bool in
            guard idle.count < 16 else { return false }
            idle.append(context)
            return true
        }
        if !kept { _ = library.freeCCtx(context) }
    }
}
