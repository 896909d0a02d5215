import CCodecs

/// xz: magic `fd 37 7a 58 5a 00`, through `liblzma.so.5` (Debian `liblzma5`), loaded at
/// run time. liblzma reads concatenated streams and stream padding itself
/// (`LZMA_CONCATENATED`); its memory is bounded by `input.max_window`. Read only.
struct XzCodec: Codec {
    let name = "xz"
    let frameNoun = "stream"
    let suffixes = [".xz"]
    let package = XzLibrary.package

    func matches(_ head: UnsafeRawBufferPointer) -> Bool {
        head.count >= 6 && Array(head.prefix(6)) == [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]
    }

    func makeFrameDecoder(_ options: CodecOptions) throws(CodecError) -> any FrameDecoder {
        guard let library = XzLibrary.shared else {
            throw SharedLibrary.missing(XzLibrary.soname, format: name, package: package)
        }
        return try XzDecoder(library, memoryLimit: options.maxWindow)
    }

    var encoder: (any BlockEncoder)? { nil }
}

final class XzLibrary: Sendable {
    typealias StreamDecoder = @convention(c) (UnsafeMutablePointer<sluice_lzma_stream>?, UInt64, UInt32) -> Int32
    typealias Code = @convention(c) (UnsafeMutablePointer<sluice_lzma_stream>?, Int32) -> Int32
    typealias End = @convention(c) (UnsafeMutablePointer<sluice_lzma_stream>?) -> Void

    static let soname = "liblzma.so.5"
    static let package = "liblzma5"
    static let shared = XzLibrary()

    let streamDecoder: StreamDecoder, code: Code, end: End

    private init?() {
        guard let lib = SharedLibrary(XzLibrary.soname),
              let streamDecoder = lib.function("lzma_stream_decoder", as: StreamDecoder.self),
              let code = lib.function("lzma_code", as: Code.self),
              let end = lib.function("lzma_end", as: End.self) else { return nil }
        (self.streamDecoder, self.code, self.end) = (streamDecoder, code, end)
    }
}

final class XzDecoder: FrameDecoder {
    private let library: XzLibrary
    private let stream: UnsafeMutablePointer<sluice_lzma_stream>
    private let memoryLimit: Int

    init(_ library: XzLibrary, memoryLimit: Int) throws(CodecError) {
        self.library = library
        self.memoryLimit = memoryLimit
        stream = .allocate(capacity: 1)
        stream.initialize(to: sluice_lzma_stream())
        do {
            try start()
        } catch {
            stream.deallocate()
            throw error
        }
    }

    deinit {
        library.end(stream)
        stream.deallocate()
    }

    private func start() throws(CodecError) {
        // LZMA_CONCATENATED (0x08): every stream of the file, and the padding between them.
        let status = library.streamDecoder(stream, UInt64(memoryLimit), 0x08)
        if status != 0 { throw CodecError("xz: cannot start a decoder (\(status))") }
    }

    func reset() throws(CodecError) {
        library.end(stream)
        stream.pointee = sluice_lzma_stream()
        try start()
    }

    func decode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws(CodecError) -> DecodeStep {
        try run(input, output, action: 0 /* LZMA_RUN */)
    }

    func finish(into output: UnsafeMutableRawBufferPointer) throws(CodecError) -> DecodeStep {
        do {
            return try run(UnsafeRawBufferPointer(start: nil, count: 0), output, action: 3 /* LZMA_FINISH */)
        } catch {
            // The input ended inside a stream: the generic truncation message says it.
            if error.message.hasPrefix("truncated") { return DecodeStep(consumed: 0, produced: 0, frameEnded: false) }
            throw error
        }
    }

    private func run(_ input: UnsafeRawBufferPointer, _ output: UnsafeMutableRawBufferPointer, action: Int32) throws(CodecError) -> DecodeStep {
        stream.pointee.next_in = input.baseAddress?.assumingMemoryBound(to: UInt8.self)
        stream.pointee.avail_in = input.count
        stream.pointee.next_out = output.baseAddress?.assumingMemoryBound(to: UInt8.self)
        stream.pointee.avail_out = output.count
        let status = library.code(stream, action)
        let step = DecodeStep(consumed: input.count - stream.pointee.avail_in, produced: output.count - stream.pointee.avail_out,
                              frameEnded: status == 1 /* LZMA_STREAM_END */)
        switch status {
        case 0, 1: return step
        case 10: // LZMA_BUF_ERROR: no progress possible
            if action == 3 { throw CodecError("truncated") }
            return step
        case 5: throw CodecError("out of memory").consumed(step.consumed)
        case 6: throw CodecError("the stream needs more memory than input.max_window allows (\(memoryLimit) bytes): raise it to read this file").consumed(step.consumed)
        case 7: throw CodecError("file format not recognized").consumed(step.consumed)
        case 8: throw CodecError("unsupported options").consumed(step.consumed)
        case 9: throw CodecError("compressed data is corrupt").consumed(step.consumed)
        default: throw CodecError("xz error \(status)").consumed(step.consumed)
        }
    }
}
