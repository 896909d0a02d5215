import CCodecs

/// bzip2: magic `BZh1`…`BZh9`, through `libbz2.so.1.0` (Debian `libbz2-1.0`), loaded at
/// run time. Multi-stream files (`lbzip2`, `pbzip2`, Wikipedia's `*-multistream.xml.bz2`)
/// read whole; a large one is decoded on several threads, split at stream boundaries
/// (see ``ParallelBzip2``). Read only.
struct Bzip2Codec: Codec {
    let name = "bzip2"
    let frameNoun = "stream"
    let suffixes = [".bz2", ".bzip2"]
    let package = Bzip2Library.package

    func matches(_ head: UnsafeRawBufferPointer) -> Bool {
        head.count >= 4 && head[0] == 0x42 && head[1] == 0x5A && head[2] == 0x68 && (0x31...0x39).contains(head[3])
    }

    func makeFrameDecoder(_ options: CodecOptions) throws(CodecError) -> any FrameDecoder {
        guard let library = Bzip2Library.shared else {
            throw SharedLibrary.missing(Bzip2Library.soname, format: name, package: package)
        }
        return try Bzip2Decoder(library)
    }

    var encoder: (any BlockEncoder)? { nil }
}

final class Bzip2Library: Sendable {
    typealias Init = @convention(c) (UnsafeMutablePointer<sluice_bz_stream>?, Int32, Int32) -> Int32
    typealias Step = @convention(c) (UnsafeMutablePointer<sluice_bz_stream>?) -> Int32

    static let soname = "libbz2.so.1.0"
    static let package = "libbz2-1.0"
    static let shared = Bzip2Library()

    let decompressInit: Init, decompress: Step, decompressEnd: Step

    private init?() {
        guard let lib = SharedLibrary(Bzip2Library.soname),
              let decompressInit = lib.function("BZ2_bzDecompressInit", as: Init.self),
              let decompress = lib.function("BZ2_bzDecompress", as: Step.self),
              let decompressEnd = lib.function("BZ2_bzDecompressEnd", as: Step.self) else { return nil }
        (self.decompressInit, self.decompress, self.decompressEnd) = (decompressInit, decompress, decompressEnd)
    }
}

final class Bzip2Decoder: FrameDecoder {
    private let library: Bzip2Library
    private let stream: UnsafeMutablePointer<sluice_bz_stream>

    init(_ library: Bzip2Library) throws(CodecError) {
        self.library = library
        stream = .allocate(capacity: 1)
        stream.initialize(to: sluice_bz_stream())
        let status = library.decompressInit(stream, 0, 0)
        guard status == 0 else {
            stream.deallocate()
            throw CodecError("bzip2: cannot start a decoder (\(status))")
        }
    }

    deinit {
        _ = library.decompressEnd(stream)
        stream.deallocate()
    }

    func reset() throws(CodecError) {
        _ = library.decompressEnd(stream)
        stream.pointee = sluice_bz_stream()
        let status = library.decompressInit(stream, 0, 0)
        if status != 0 { throw CodecError("bzip2: cannot start a decoder (\(status))") }
    }

    func decode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws(CodecError) -> DecodeStep {
        let inCount = min(input.count, Int(UInt32.max))
        let outCount = min(output.count, Int(UInt32.max))
        stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: CChar.self))
        stream.pointee.avail_in = UInt32(inCount)
        stream.pointee.next_out = output.baseAddress?.assumingMemoryBound(to: CChar.self)
        stream.pointee.avail_out = UInt32(outCount)
        let status = library.decompress(stream)
        let step = DecodeStep(consumed: inCount - Int(stream.pointee.avail_in), produced: outCount - Int(stream.pointee.avail_out),
                              frameEnded: status == 4 /* BZ_STREAM_END */)
        switch status {
        case 0, 4: return step
        case -4: throw CodecError("data integrity error (a block's CRC does not match, or the data is corrupt)").consumed(step.consumed)
        case -5: throw CodecError("bad stream magic (not bzip2 data)").consumed(step.consumed)
        case -3: throw CodecError("out of memory").consumed(step.consumed)
        default: throw CodecError("bzip2 error \(status)").consumed(step.consumed)
        }
    }
}
