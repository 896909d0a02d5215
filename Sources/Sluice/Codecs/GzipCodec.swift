/// gzip (RFC 1952): magic `1f 8b`. Read through ISA-L's streaming inflate when
/// `libisal.so.2` is installed, zlib otherwise (always present); the records are the same
/// either way, and so are the error messages. Written one member per batch (see
/// ``GzipMember``).
struct GzipCodec: Codec {
    let name = "gzip"
    let frameNoun = "member"
    let suffixes = [".gz", ".gzip"]
    let package = ISAL.package

    func matches(_ head: UnsafeRawBufferPointer) -> Bool {
        head.count >= 2 && head[0] == 0x1F && head[1] == 0x8B
    }

    func makeFrameDecoder(_ options: CodecOptions) throws(CodecError) -> any FrameDecoder {
        if !options.usesFallback, let isal = ISAL.library { return GzipISALDecoder(isal) }
        return GzipZlibDecoder()
    }

    var encoder: (any BlockEncoder)? { GzipEncoder() }

    /// Which library decodes gzip on this machine (for `sluice explain` and the bench).
    static var decoderLibrary: String { ISAL.shared != nil ? "ISA-L (\(ISAL.soname))" : "zlib" }
}

struct GzipEncoder: BlockEncoder {
    let levels = 1...9
    let defaultLevel = 6

    func compress(_ bytes: UnsafeRawBufferPointer, level: Int, appendingTo out: inout [UInt8]) {
        GzipMember.compress(bytes, level: level, appendingTo: &out)
    }
}

/// zlib streams (RFC 1950): `78 01`, `78 5e`, `78 9c` or `78 da` — the four headers zlib
/// writes with its default 32 KiB window and no dictionary; no JSON or XML text starts
/// so. Read only.
struct ZlibCodec: Codec {
    let name = "zlib"
    let frameNoun = "stream"
    let suffixes = [".zz", ".zlib"]
    let package = "zlib1g"

    func matches(_ head: UnsafeRawBufferPointer) -> Bool {
        head.count >= 2 && head[0] == 0x78 && [0x01, 0x5E, 0x9C, 0xDA].contains(head[1])
    }

    func makeFrameDecoder(_ options: CodecOptions) throws(CodecError) -> any FrameDecoder {
        GzipZlibDecoder(isGzip: false)
    }

    var encoder: (any BlockEncoder)? { nil }
}
